/**
 * Validators for single schemas of the contract, for handlers that check part of a request
 * themselves (the JSON-RPC endpoints check `params` once they know the method). The schemas are
 * the contract's own, so what is documented is exactly what is enforced.
 */
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { components } from "../../generated/openapi.js";
import { loadContract } from "./contract.js";
import { describeValidationErrors } from "./validation-errors.js";

type SchemaName = keyof components["schemas"];

let ajv: Ajv2020.default | undefined;

function contractAjv(): Ajv2020.default {
  if (!ajv) {
    ajv = new Ajv2020.default({ strict: false, allErrors: true, useDefaults: true });
    addFormats.default(ajv);
    ajv.addSchema(loadContract(), "contract");
  }
  return ajv;
}

/**
 * Checks `value` against the named schema (filling in its defaults); returns null when it is
 * valid, else one clause per invalid field, with paths starting at `at` (e.g. `params`).
 */
export function checkAgainst(name: SchemaName, value: unknown, at: string): string | null {
  const validate = contractAjv().getSchema(`contract#/components/schemas/${name}`);
  if (!validate) throw new Error(`schema ${name} is not in the contract`);
  if (validate(value)) return null;
  const errors = (validate.errors ?? []).map((error) => ({ ...error, instancePath: `/${at}${error.instancePath}` }));
  return describeValidationErrors(errors);
}
