import type { ErrorObject } from "ajv";

/** Turns `/requestBody/config/recursion_limit` into `body.config.recursion_limit`. */
function fieldPath(instancePath: string): string {
  const parts = instancePath.split("/").filter(Boolean).map(decodePointer);
  if (parts[0] === "requestBody") parts[0] = "body";
  return parts.join(".") || "body";
}

const decodePointer = (s: string) => s.replace(/~1/g, "/").replace(/~0/g, "~");

function describe(error: ErrorObject): string {
  const at = fieldPath(error.instancePath);
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      if (p.missingProperty === "requestBody") return "body: a JSON request body is required";
      return `${at}.${p.missingProperty}: field required`;
    case "additionalProperties":
      return `${at}.${p.additionalProperty}: unknown field`;
    case "enum":
      return `${at}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "parse":
      return `${at}: malformed JSON (${error.message})`;
    default:
      return `${at}: ${error.message}`;
  }
}

const isComposite = (e: ErrorObject) => e.keyword === "anyOf" || e.keyword === "oneOf";
const insideBranch = (e: ErrorObject) => /\/(anyOf|oneOf)\/\d+\//.test(e.schemaPath);

/**
 * One readable clause per invalid field. Ajv reports every failed `anyOf`/`oneOf` branch as well
 * as the composite itself; only the composite is kept.
 */
export function describeValidationErrors(errors: ErrorObject[]): string {
  const clauses = new Set<string>();
  for (const error of errors) {
    if (isComposite(error)) clauses.add(`${fieldPath(error.instancePath)}: does not match any allowed shape`);
    else if (!insideBranch(error)) clauses.add(describe(error));
  }
  return [...clauses].join("; ");
}
