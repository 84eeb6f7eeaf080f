import { CombinedGraphQLErrors } from "@apollo/client";

export interface ProblemReport {
  /** Messages per input field (`extensions.field`). */
  fields: Record<string, string>;
  /** Messages that belong to no field. */
  general: string[];
  codes: string[];
}

/** Splits an Apollo error into per-field messages and the rest. */
export function describe(error: unknown): ProblemReport {
  const report: ProblemReport = { fields: {}, general: [], codes: [] };
  if (!error) return report;
  if (CombinedGraphQLErrors.is(error)) {
    for (const e of error.errors) {
      const code = typeof e.extensions?.code === "string" ? e.extensions.code : "INTERNAL";
      report.codes.push(code);
      const field = e.extensions?.field;
      if (code === "BAD_USER_INPUT" && typeof field === "string") report.fields[field] = e.message;
      else if (code === "RATE_LIMITED" && typeof e.extensions?.retryAfter === "number")
        report.general.push(`${e.message} Try again in ${Math.ceil(e.extensions.retryAfter)} s.`);
      else report.general.push(e.message);
    }
  } else {
    report.general.push("The server could not be reached. Nothing was lost: try again.");
    report.codes.push("NETWORK");
  }
  return report;
}

export function hasCode(error: unknown, code: string): boolean {
  return describe(error).codes.includes(code);
}
