// Progress of a long CLI operation on stderr: on a terminal one line redrawn with `\r` (bar,
// done/total, rate, ETA); elsewhere plain lines (`progress 40/100 devices`) a log can keep.

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  /** what is counted, e.g. "devices registered" */
  readonly label?: string;
  readonly now?: () => number;
  /** a terminal is redrawn at most this often (the last value is always drawn) */
  readonly redrawMs?: number;
}

const BAR = 24;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly label: string;
  private readonly now: () => number;
  private readonly redrawMs: number;
  private readonly started: number;
  private total: number;
  private done = 0;
  private drawnAt = -Infinity;
  private printed = -1;
  private finished = false;
  private updated = false;

  constructor(stream: ProgressStream, total: number, options: ProgressOptions = {}) {
    this.stream = stream;
    this.total = total;
    this.label = options.label ?? '';
    this.now = options.now ?? (() => Date.now());
    this.redrawMs = options.redrawMs ?? 100;
    this.started = this.now();
  }

  update(done: number, total = this.total): void {
    if (this.finished) return;
    this.done = done;
    this.total = total;
    this.updated = true;
    this.draw(false);
  }

  /** Draws the last value whatever the throttle said; a terminal line is ended. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.updated) return; // nothing was shown: nothing to end
    this.draw(true);
    if (this.stream.isTTY) this.stream.write('\n');
  }

  private draw(force: boolean): void {
    const { done, total } = this;
    if (this.stream.isTTY) {
      if (!force && done < total && this.now() - this.drawnAt < this.redrawMs) return;
      this.drawnAt = this.now();
      this.stream.write(`\r${this.line()}\x1b[K`);
      return;
    }
    // plain lines: the first, then every 5 %, and the last
    const step = Math.max(1, Math.ceil(total / 20));
    if (done === this.printed) return;
    if (!force && this.printed >= 0 && done < total && done - this.printed < step) return;
    this.printed = done;
    this.stream.write(`progress ${done}/${total}${this.label ? ` ${this.label}` : ''}\n`);
  }

  /** `[#########---------] 40/100 devices  12.5/s  ETA 5s` */
  line(): string {
    const { done, total } = this;
    const filled = total > 0 ? Math.min(BAR, Math.round((done / total) * BAR)) : 0;
    const seconds = (this.now() - this.started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = done >= total ? 'done' : rate > 0 ? `ETA ${duration((total - done) / rate)}` : 'ETA ?';
    const text = `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${done}/${total}${this.label ? ` ${this.label}` : ''}  ${rate.toFixed(1)}/s  ${eta}`;
    const width = this.stream.columns ?? 80;
    return text.length >= width ? text.slice(0, width - 1) : text;
  }
}
