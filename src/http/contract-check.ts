import type { OpenAPIBackend, Operation } from "openapi-backend";
import type { OpenAPIV3_1 } from "openapi-types";
import { describeValidationErrors } from "./validation-errors.js";

export interface ContractViolation {
  operationId: string;
  status: number;
  problem: string;
}

/**
 * Checks one response against the contract: the status must be declared for the operation, and
 * the body and headers must match what is declared for that status. Used in tests, where every
 * response the server sends is checked.
 */
export function checkResponse(api: OpenAPIBackend, operation: Operation, status: number, headers: Record<string, unknown>, body: unknown): string[] {
  const declared = operation.responses ?? {};
  if (!(String(status) in declared) && !("default" in declared) && !(`${String(status)[0]}XX` in declared)) {
    return [`status ${status} is not declared (declared: ${Object.keys(declared).join(", ")})`];
  }
  const problems: string[] = [];
  const response = (declared[String(status)] ?? {}) as OpenAPIV3_1.ResponseObject;
  const mediaType = String(headers["content-type"] ?? "")
    .split(";")[0]
    .trim();
  const content = response.content ?? {};
  if (Object.keys(content).length === 0) {
    if (body !== undefined) problems.push("a body was sent where the contract declares none");
  } else if (!(mediaType in content)) {
    problems.push(`content type ${mediaType} is not declared (declared: ${Object.keys(content).join(", ")})`);
  } else if (mediaType === "application/json") {
    const bodyCheck = api.validateResponse(body, operation, status);
    if (bodyCheck.errors) problems.push(`response ${describeValidationErrors(bodyCheck.errors)}`);
  } else if (typeof body !== "string") {
    problems.push(`a ${mediaType} body must be text`);
  }
  // only the headers present are checked against their schemas; presence is checked for required ones
  const headerCheck = api.validateResponseHeaders(headers, operation, { statusCode: status });
  if (headerCheck.errors) problems.push(`headers: ${describeValidationErrors(headerCheck.errors)}`);
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    if ((header as OpenAPIV3_1.HeaderObject).required && headers[name.toLowerCase()] === undefined) {
      problems.push(`headers: required header ${name} is missing`);
    }
  }
  return problems;
}
