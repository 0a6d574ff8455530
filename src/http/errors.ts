/** An error that the HTTP layer answers as `{"detail": detail}` with `status`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "HttpError";
  }
}
