// Least-squares line through samples: the soak's figures are trends over a whole run, not two
// samples (one slow round or one GC at either end would decide a two-point figure).

export interface Line {
  readonly intercept: number;
  readonly slope: number;
}

/** The least-squares line y = intercept + slope·x; undefined with fewer than two distinct x. */
export function fitLine(xs: readonly number[], ys: readonly number[]): Line | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return undefined;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  return { intercept: my - slope * mx, slope };
}

/** The fitted value at the last sample over the fitted value at the first (1 = flat). */
export function endOverStart(ys: readonly number[]): number | undefined {
  const line = fitLine(
    ys.map((_, i) => i),
    ys,
  );
  if (!line || line.intercept <= 0) return undefined;
  return (line.intercept + line.slope * (ys.length - 1)) / line.intercept;
}
