import { useQuery } from "@apollo/client/react";
import { ErrorMessage, Loading } from "../components/ErrorMessage";
import { graphql } from "../gql";

export const EventTypesQuery = graphql(`
  query EventCatalogue {
    eventTypes {
      name
      streamType
      schemaVersion
      dataSchema
    }
  }
`);

interface JsonSchema {
  description?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
}

function typeOf(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : schema.type ?? "any";
  if (type === "array" && schema.items) return `array of ${typeOf(schema.items)}`;
  return schema.format ? `${type} (${schema.format})` : type;
}

/** The event catalogue: every event type with the fields of its data, then its JSON Schema. */
export function CataloguePage() {
  const { data, error, loading } = useQuery(EventTypesQuery);
  if (loading && !data) return <Loading label="Loading the event types…" />;
  if (error && !data) return <ErrorMessage error={error} title="The event catalogue could not be loaded." />;
  const types = [...(data?.eventTypes ?? [])].sort((a, b) => a.streamType.localeCompare(b.streamType) || a.name.localeCompare(b.name));
  return (
    <>
      <h1 className="page-title">Event catalogue</h1>
      <p className="muted lead">
        Every change in Chronicle is one of these events, recorded in the log for good. Older versions of an event are upcast to the current
        schema when read.
      </p>
      <nav aria-label="Event types" className="catalogue-index">
        {types.map((type) => (
          <a key={type.name} href={`#${type.name}`}>
            {type.name}
          </a>
        ))}
      </nav>
      {types.map((type) => {
        const schema = (type.dataSchema ?? {}) as JsonSchema;
        const required = new Set(schema.required ?? []);
        const fields = Object.entries(schema.properties ?? {});
        return (
          <section key={type.name} id={type.name} className="card event-type" aria-labelledby={`${type.name}-title`}>
            <h2 id={`${type.name}-title`}>{type.name}</h2>
            <p className="muted">
              {type.streamType} stream · schema version {type.schemaVersion}
            </p>
            {schema.description && <p>{schema.description}</p>}
            {fields.length > 0 ? (
              <table className="fields">
                <thead>
                  <tr>
                    <th scope="col">Field</th>
                    <th scope="col">Type</th>
                    <th scope="col">Required</th>
                  </tr>
                </thead>
                <tbody>
                  {fields.map(([name, field]) => (
                    <tr key={name}>
                      <td>
                        <code>{name}</code>
                        {field.description && <div className="muted">{field.description}</div>}
                      </td>
                      <td>{typeOf(field)}</td>
                      <td>{required.has(name) ? "yes" : "no"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="muted">No data fields.</p>
            )}
            <details>
              <summary>JSON Schema</summary>
              <pre className="json">{JSON.stringify(type.dataSchema, null, 2)}</pre>
            </details>
          </section>
        );
      })}
    </>
  );
}
