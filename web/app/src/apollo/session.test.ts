import { describe, expect, it } from "vitest";
import { Session } from "./session";

describe("Session", () => {
  it("survives a reload through storage, and forgets the token when it expires", () => {
    const first = new Session(localStorage);
    first.signIn("t0k3n", { id: "u1", username: "ada", displayName: "Ada" });
    const reloaded = new Session(localStorage);
    expect(reloaded.get().token).toBe("t0k3n");
    reloaded.expire();
    expect(reloaded.get()).toEqual({ token: null, user: null, expired: true });
    expect(new Session(localStorage).get().token).toBeNull();
  });

  it("asks reads for the highest position this tab wrote", () => {
    const session = new Session(null);
    expect(session.minPosition()).toBeNull();
    session.noteWrite("12");
    session.noteWrite("9");
    session.noteSeen("40");
    expect(session.minPosition()).toBe("12");
    expect(session.lastSeenPosition()).toBe("40");
  });
});
