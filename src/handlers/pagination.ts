import type { Page } from "../storage/types.js";

/** The SDK reads these to page through search results. */
export function paginationHeaders(total: number, offset: number, returned: number): Record<string, string> {
  const headers: Record<string, string> = { "X-Pagination-Total": String(total) };
  if (offset + returned < total) headers["X-Pagination-Next"] = String(offset + returned);
  return headers;
}

/** `select` keeps only the named fields of each item. */
export function selectFields<T extends object>(items: T[], select: readonly string[] | undefined): Partial<T>[] {
  if (!select?.length) return items;
  return items.map((item) => {
    const picked: Partial<T> = {};
    for (const field of select) {
      if (field in item) picked[field as keyof T] = item[field as keyof T];
    }
    return picked;
  });
}

/** A search answer: the page's items as the API shows them, `select`ed, with paging headers. */
export function pageReply<T, V extends object>(page: Page<T>, window: { offset?: number; select?: readonly string[] }, view: (item: T) => V) {
  return {
    status: 200 as const,
    body: selectFields(page.items.map(view), window.select),
    headers: paginationHeaders(page.total, window.offset ?? 0, page.items.length),
  };
}
