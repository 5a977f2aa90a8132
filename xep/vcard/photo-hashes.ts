// The avatar hash of each online account, so stamping a presence costs no storage round trip.
// An entry is loaded once (at bind, or by the first presence that finds none) and dropped when the
// account's last resource goes; a vCard set replaces it.

/** '' means the account has no photo. */
type Entry = string | Promise<string>;

export class PhotoHashes {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly load: (bare: string) => Promise<string>) {}

  /** The account's hash, loading it unless cached. */
  get(bare: string): Entry {
    const cached = this.entries.get(bare);
    if (cached !== undefined) return cached;
    const loading: Promise<string> = this.load(bare).then(
      (hash) => {
        if (this.entries.get(bare) === loading) {
          this.entries.set(bare, hash);
          return hash;
        }
        // A vCard set while this load was on its way wins: it is newer than what was read.
        const now = this.entries.get(bare);
        return typeof now === 'string' ? now : hash;
      },
      (err: unknown) => {
        if (this.entries.get(bare) === loading) this.entries.delete(bare);
        throw err;
      },
    );
    this.entries.set(bare, loading);
    return loading;
  }

  /** The cached hash when it is known now, else undefined. */
  peek(bare: string): string | undefined {
    const cached = this.entries.get(bare);
    return typeof cached === 'string' ? cached : undefined;
  }

  set(bare: string, hash: string): void {
    this.entries.set(bare, hash);
  }

  drop(bare: string): void {
    this.entries.delete(bare);
  }

  get size(): number {
    return this.entries.size;
  }
}
