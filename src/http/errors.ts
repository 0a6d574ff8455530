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

export const notFound = (what: string, id: string) =>
  new HttpError(404, `${what} '${id}' not found`);

export const conflict = (detail: string) => new HttpError(409, detail);
