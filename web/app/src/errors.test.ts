import { CombinedGraphQLErrors } from "@apollo/client";
import { describe as suite, expect, it } from "vitest";
import { describe } from "./errors";

suite("describe", () => {
  it("puts BAD_USER_INPUT messages under their field and the rest apart", () => {
    const error = new CombinedGraphQLErrors({
      errors: [
        { message: "title must not be empty", extensions: { code: "BAD_USER_INPUT", field: "title" } },
        { message: "Too many attempts.", extensions: { code: "RATE_LIMITED", retryAfter: 30 } },
      ],
    });
    expect(describe(error)).toEqual({
      fields: { title: "title must not be empty" },
      general: ["Too many attempts. Try again in 30 s."],
      codes: ["BAD_USER_INPUT", "RATE_LIMITED"],
    });
  });
});
