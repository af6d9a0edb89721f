import type { CertificateSnapshot } from './certificate-source';

/** The listeners of a certificate source; one failing listener does not starve the others. */
export class SnapshotListeners {
  private readonly listeners = new Set<(snapshot: CertificateSnapshot) => void>();

  /** Adds a listener; returns the function that removes it. */
  add(listener: (snapshot: CertificateSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every listener about a new snapshot; returns the errors listeners threw. */
  publish(snapshot: CertificateSnapshot): unknown[] {
    const errors: unknown[] = [];
    for (const listener of this.listeners) {
      try {
        listener(snapshot);
      } catch (err) {
        errors.push(err);
      }
    }
    return errors;
  }
}
