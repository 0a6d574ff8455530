import { readFileSync } from "node:fs";
import { OpenAPIBackend, ValidationContext, type AjvCustomizer, type Document, type Options } from "openapi-backend";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { compileRouter } from "./compiled-router.js";
import { isJsonRpcOperation } from "./jsonrpc.js";
import { packageFile } from "../package-files.js";

export const CONTRACT_PATH = packageFile("generated/openapi.json");

export function loadContract(): Document {
  return JSON.parse(readFileSync(CONTRACT_PATH, "utf8")) as Document;
}

/**
 * openapi-backend checks documents against the OpenAPI 3.0 meta-schema only; on our 3.1 document
 * that check fails and (outside strict mode) it silently registers zero operations. The contract is
 * linted by redocly instead, so the 3.0 check is skipped and strict mode makes any other
 * load failure fatal.
 */
class ContractBackend extends OpenAPIBackend {
  override validateDefinition() {
    return this.document;
  }
}

/** Contract schemas are JSON Schema 2020-12 (OpenAPI 3.1), so validate with Ajv's 2020 dialect. */
const ajv2020: AjvCustomizer = (_default, opts, context) => {
  const ajv = new Ajv2020.default({
    ...opts,
    strict: false,
    allErrors: true,
    // requests get the contract's defaults filled in; responses are only checked
    useDefaults: context === ValidationContext.RequestBody || context === ValidationContext.Params,
    // query strings and headers are text: `?limit=5` is a number, a lone `?stream_mode=values` an array
    coerceTypes: context === ValidationContext.Params || context === ValidationContext.ResponseHeaders ? "array" : false,
  });
  addFormats.default(ajv);
  return ajv;
};

export async function createContractBackend(
  handlers: NonNullable<Options["handlers"]>,
  definition: Document = loadContract(),
): Promise<OpenAPIBackend> {
  const api = new ContractBackend({
    definition,
    strict: true,
    // compile each operation's validators on first use: compiling all ~70 up front takes seconds
    quick: true,
    // `/mcp/` is a distinct path: trailing slashes are significant
    ignoreTrailingSlashes: false,
    coerceTypes: true,
    // JSON-RPC endpoints answer a bad body with a JSON-RPC error object, so they check it themselves
    validate: (c) => !isJsonRpcOperation(c.operation),
    customizeAjv: ajv2020,
    handlers,
  });
  await api.init();
  compileRouter(api.router);
  return api;
}
