/** I/O counters a backend keeps, so tests and the UI can see how much a step really touched. */
export interface IoStats {
  reads: number;
  bytesRead: number;
  writes: number;
  bytesWritten: number;
  flushes: number;
}

export class IoCounters implements IoStats {
  reads = 0;
  bytesRead = 0;
  writes = 0;
  bytesWritten = 0;
  flushes = 0;

  countRead(bytes: number): void {
    this.reads++;
    this.bytesRead += bytes;
  }

  countWrite(bytes: number): void {
    this.writes++;
    this.bytesWritten += bytes;
  }

  snapshot(): IoStats {
    return {
      reads: this.reads,
      bytesRead: this.bytesRead,
      writes: this.writes,
      bytesWritten: this.bytesWritten,
      flushes: this.flushes,
    };
  }
}
