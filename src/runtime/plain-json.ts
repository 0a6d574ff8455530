/**
 * Graph values in the JSON the API answers with. LangChain objects with `toDict()` (messages)
 * become `{...data, type}`, the dict form the SDK's message helpers read, instead of their
 * `{lc, type: "constructor"}` serialization; bigints become strings (JSON has none); the rest is
 * what JSON.stringify makes of it (undefined dropped, Dates as ISO strings).
 */
type Dictable = { toDict(): { type: string; data: Record<string, unknown> } };

const isDictable = (value: unknown): value is Dictable =>
  value !== null && typeof value === "object" && typeof (value as Partial<Dictable>).toDict === "function";

export function toPlainJson(value: unknown): unknown {
  return JSON.parse(toPlainJsonText(value));
}

/** The JSON text of `toPlainJson(value)` (undefined becomes `null`); throws on cycles like JSON.stringify. */
export function toPlainJsonText(value: unknown): string {
  // The replacer sees values after their own toJSON ran, so it looks at the holder's raw value.
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key: string, converted: unknown) {
    const raw = this[key];
    if (isDictable(raw)) {
      const { type, data } = raw.toDict();
      return { ...data, type };
    }
    return typeof converted === "bigint" ? converted.toString() : converted;
  });
  return text ?? "null";
}
