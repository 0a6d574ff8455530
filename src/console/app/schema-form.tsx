/**
 * A form generated from an object's JSON schema: a text box, number box, check box or choice per
 * property, nested objects as groups, anything else (arrays, unions) as JSON.
 */
import { resolve, type Schema } from "./json-schema.js";
import type { ReactNode } from "react";
import { parseJson, pretty } from "./ui.js";

type Values = Record<string, unknown>;

interface FieldProps {
  name: string;
  path: string;
  schema: Schema;
  root: Schema;
  value: unknown;
  onChange(value: unknown): void;
}

function primaryType(schema: Schema): string | undefined {
  const types = Array.isArray(schema.type) ? schema.type.filter((t) => t !== "null") : schema.type ? [schema.type] : [];
  return types.length === 1 ? types[0] : undefined;
}

function Field({ name, path, schema, root, value, onChange }: FieldProps) {
  const s = resolve(schema, root);
  const label = s.title ?? name;
  const help = s.description ? <small>{s.description}</small> : null;
  const type = primaryType(s);
  if (s.enum) {
    return (
      <label>
        <span>{label}</span>
        <select
          id={path}
          value={value === undefined ? "" : JSON.stringify(value)}
          onChange={(event) => onChange(event.target.value === "" ? undefined : (JSON.parse(event.target.value) as unknown))}
        >
          <option value="">(unset)</option>
          {s.enum.map((option) => (
            <option key={JSON.stringify(option)} value={JSON.stringify(option)}>
              {String(option)}
            </option>
          ))}
        </select>
        {help}
      </label>
    );
  }
  if (type === "boolean") {
    return (
      <label className="inline">
        <input id={path} type="checkbox" checked={value === true} onChange={(event) => onChange(event.target.checked)} />
        <span>{label}</span>
        {help}
      </label>
    );
  }
  if (type === "string" || type === "number" || type === "integer") {
    const numeric = type !== "string";
    return (
      <label>
        <span>{label}</span>
        <input
          id={path}
          type={numeric ? "number" : "text"}
          step={type === "integer" ? 1 : "any"}
          value={value === undefined || value === null ? "" : String(value)}
          onChange={(event) => {
            const text = event.target.value;
            onChange(text === "" ? undefined : numeric ? Number(text) : text);
          }}
        />
        {help}
      </label>
    );
  }
  if (type === "object" && s.properties) {
    return (
      <fieldset>
        <legend>{label}</legend>
        {help}
        <SchemaFields schema={s} root={root} path={path} values={(value as Values | undefined) ?? {}} onChange={onChange} />
      </fieldset>
    );
  }
  return <JsonField label={label} path={path} value={value} onChange={onChange} help={help} />;
}

/** Arrays, unions, anything without a simple input: edited as JSON, applied once it parses. */
function JsonField({
  label,
  path,
  value,
  onChange,
  help,
}: {
  label: string;
  path: string;
  value: unknown;
  onChange(v: unknown): void;
  help: ReactNode;
}) {
  const parsed = pretty(value);
  return (
    <label>
      <span>{label} (JSON)</span>
      <textarea
        id={path}
        rows={3}
        spellCheck={false}
        defaultValue={parsed}
        onChange={(event) => {
          const result = parseJson(event.target.value);
          if (!result.error) onChange(result.value);
        }}
      />
      {help}
    </label>
  );
}

export function SchemaFields(props: { schema: Schema; root?: Schema; path: string; values: Values; onChange(values: Values): void }) {
  const root = props.root ?? props.schema;
  const s = resolve(props.schema, root);
  const entries = Object.entries(s.properties ?? {});
  if (entries.length === 0) return <p className="muted">The schema declares no fields.</p>;
  return (
    <div className="schema-fields">
      {entries.map(([name, schema]) => (
        <Field
          key={name}
          name={name}
          path={`${props.path}.${name}`}
          schema={schema}
          root={root}
          value={props.values[name]}
          onChange={(value) => {
            const next = { ...props.values };
            if (value === undefined) delete next[name];
            else next[name] = value;
            props.onChange(next);
          }}
        />
      ))}
    </div>
  );
}
