/*
 * Baseline for `npm run bench -- codec`: libwbxml (Debian libwbxml2) decoding each WBXML message to
 * its tree and encoding the tree back to WBXML, in-process, for a given time. The tree API is
 * exported by libwbxml2.so but its header is not installed: the prototypes below are those of
 * libwbxml 0.11 (src/wbxml_tree.h).
 *
 * usage: libwbxml-harness SECONDS FILE...   prints {"messages":N,"seconds":S,"msgs_per_s":R}
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <wbxml/wbxml.h>
#include <wbxml/wbxml_conv.h>

typedef struct WBXMLTree_s WBXMLTree;
WBXMLError wbxml_tree_from_wbxml(WB_UTINY *wbxml, WB_ULONG wbxml_len, WBXMLLanguage lang,
                                 WBXMLCharsetMIBEnum charset, WBXMLTree **tree);
WBXMLError wbxml_tree_to_wbxml(WBXMLTree *tree, WB_UTINY **wbxml, WB_ULONG *wbxml_len,
                               WBXMLGenWBXMLParams *params);
void wbxml_tree_destroy(WBXMLTree *tree);
void wbxml_free(void *memblock);

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s SECONDS FILE...\n", argv[0]);
    return 2;
  }
  double seconds = atof(argv[1]);
  int n = argc - 2;
  WB_UTINY **bufs = calloc(n, sizeof *bufs);
  WB_ULONG *lens = calloc(n, sizeof *lens);
  for (int i = 0; i < n; i++) {
    FILE *f = fopen(argv[i + 2], "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", argv[i + 2]); return 1; }
    fseek(f, 0, SEEK_END);
    lens[i] = ftell(f);
    fseek(f, 0, SEEK_SET);
    bufs[i] = malloc(lens[i]);
    if (fread(bufs[i], 1, lens[i], f) != lens[i]) { fprintf(stderr, "cannot read %s\n", argv[i + 2]); return 1; }
    fclose(f);
  }
  /* same choices as gwmo's encoder: WBXML 1.2, no string table */
  WBXMLGenWBXMLParams params = { WBXML_VERSION_12, FALSE, FALSE, FALSE };
  long messages = 0;
  double start = now(), elapsed = 0;
  do {
    for (int i = 0; i < n; i++) {
      WBXMLTree *tree = NULL;
      WBXMLError err = wbxml_tree_from_wbxml(bufs[i], lens[i], WBXML_LANG_UNKNOWN, WBXML_CHARSET_UNKNOWN, &tree);
      if (err != WBXML_OK) { fprintf(stderr, "%s: decode: %s\n", argv[i + 2], wbxml_errors_string(err)); return 1; }
      WB_UTINY *out = NULL;
      WB_ULONG out_len = 0;
      err = wbxml_tree_to_wbxml(tree, &out, &out_len, &params);
      if (err != WBXML_OK) { fprintf(stderr, "%s: encode: %s\n", argv[i + 2], wbxml_errors_string(err)); return 1; }
      wbxml_free(out);
      wbxml_tree_destroy(tree);
      messages++;
    }
    elapsed = now() - start;
  } while (elapsed < seconds);
  printf("{\"messages\":%ld,\"seconds\":%.6f,\"msgs_per_s\":%.1f}\n", messages, elapsed, messages / elapsed);
  return 0;
}
