// The clock for timeouts: whole milliseconds since the process started, monotonic (a wall-clock
// step never fires or delays one). Every read on every stream stamps it, so it must not allocate:
// a Date.now() value is a heap number, and each stamp stored on a long-lived stream object is a
// new object the young-generation GC has to copy and promote (thousands per scavenge at 10,000
// sessions); a whole number below 2^30 is stored inline.
import { performance } from 'node:perf_hooks';

export function monotonicMs(): number {
  return Math.floor(performance.now());
}
