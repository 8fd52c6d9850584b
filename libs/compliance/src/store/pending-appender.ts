/**
 * Group commit for entries that accompany no change (`AuditStore.appendAlone`). An entry that arrives
 * while the appender is idle goes out at once, as its own statement: no waiting at low load. Entries
 * that arrive while `maxStatements` statements are in flight wait, and go out together as one
 * multi-row statement as soon as one of those finishes — so N concurrent callers share one commit
 * instead of paying for N. Each caller's promise resolves once the statement holding its entry has
 * committed. A statement is atomic: when a shared one fails, none of its entries was written; if the
 * error may be one entry's fault, each goes again in a statement of its own, so a caller's promise
 * rejects only with the error of its own entry. Later statements are not affected.
 */
interface Waiting<T> {
  entry: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface PendingAppenderOptions {
  /** Statements in flight at once; what arrives meanwhile waits for the next batch. Default 2. */
  maxStatements?: number;
  /** Entries per statement at most. Default 500. */
  maxBatch?: number;
  /**
   * Whether a shared statement's error may be one entry's fault (bad data, a violated constraint): then
   * each entry goes again on its own. Any other error (a lost connection, whose commit is unknown) fails
   * the whole batch at once: a retry could write an entry twice. Default: never.
   */
  entryMayBeAtFault?: (err: unknown) => boolean;
}

export class PendingAppender<T> {
  private readonly queue: Waiting<T>[] = [];
  private running = 0;
  private statements = 0;
  private entries = 0;
  private readonly maxStatements: number;
  private readonly maxBatch: number;
  private readonly entryMayBeAtFault: (err: unknown) => boolean;

  /** `insert` writes the entries as one statement, committed on its own, in the order given. */
  constructor(
    private readonly insert: (entries: T[]) => Promise<void>,
    options: PendingAppenderOptions = {},
  ) {
    this.maxStatements = options.maxStatements ?? 2;
    this.maxBatch = options.maxBatch ?? 500;
    this.entryMayBeAtFault = options.entryMayBeAtFault ?? (() => false);
  }

  append(entry: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.pump();
    });
  }

  /** Statements sent and the entries they held, since start. */
  stats(): { statements: number; entries: number } {
    return { statements: this.statements, entries: this.entries };
  }

  /** After a shared statement failed: each entry again on its own, so one cannot fail the others. */
  private async oneByOne(batch: readonly Waiting<T>[]): Promise<void> {
    for (const waiting of batch) {
      this.statements++;
      try {
        await this.insert([waiting.entry]);
        waiting.resolve();
      } catch (err) {
        waiting.reject(err);
      }
    }
  }

  private pump(): void {
    while (this.running < this.maxStatements && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.running++;
      this.statements++;
      this.entries += batch.length;
      let written: Promise<void>;
      try {
        written = this.insert(batch.map((waiting) => waiting.entry));
      } catch (err) {
        written = Promise.reject(err);
      }
      written
        .then(
          () => batch.forEach((waiting) => waiting.resolve()),
          (err: unknown) =>
            batch.length > 1 && this.entryMayBeAtFault(err)
              ? this.oneByOne(batch)
              : batch.forEach((waiting) => waiting.reject(err)),
        )
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }
}
