// The engine's faults: an HTTP status, the fault's reason and its detail, as the API answers them.
export class Fault extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, detail: string) {
    super(detail);
    this.status = status;
    this.reason = reason;
  }
}

export const conflict = (detail: string) => new Fault(409, 'Operation Failed', detail);
export const notFound = () => new Fault(404, '', '');
export const badRequest = (detail: string) => new Fault(400, 'Incomplete parameters', detail);
