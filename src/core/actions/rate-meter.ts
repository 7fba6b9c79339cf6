// The upload rate shown beside the progress bar.

/** Bytes per second over the last ~2 s of samples. */
export class RateMeter {
  private samples: { at: number; bytes: number }[] = [];
  constructor(
    private readonly now: () => number,
    private readonly windowMs = 2000,
  ) {}

  sample(bytes: number): number {
    const at = this.now();
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - (this.samples[0]?.at ?? at) > this.windowMs) this.samples.shift();
    const first = this.samples[0];
    if (!first || at === first.at) return 0;
    return ((bytes - first.bytes) * 1000) / (at - first.at);
  }
}
