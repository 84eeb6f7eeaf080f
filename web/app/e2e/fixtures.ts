import { test as base, expect, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { startServer, type Server } from "./server";

export { expect };

export interface Member {
  page: Page;
  context: BrowserContext;
  username: string;
  password: string;
  token: () => Promise<string>;
}

interface Options {
  /** Generated events written into the log before the server starts. */
  seedEvents: number;
}

interface Fixtures {
  server: Server;
  /** A browser context registered as a new member through the app's own form. */
  member: (name: string, options?: Look) => Promise<Member>;
  /** Console errors and page errors of every page the test opened. */
  consoleErrors: string[];
}

/** How the member's browser looks and where it is: colour scheme, time zone. */
export interface Look {
  colorScheme?: "light" | "dark";
  timezoneId?: string;
}

let counter = 0;

export const test = base.extend<Fixtures & Options>({
  seedEvents: [0, { option: true }],
  server: async ({ seedEvents }, use) => {
    const server = await startServer({ seedEvents });
    await use(server);
    await server.stop();
  },
  baseURL: async ({ server }, use) => use(server.url),
  consoleErrors: async ({ page }, use) => {
    const errors: string[] = [];
    watch(page, errors);
    await use(errors);
  },
  member: async ({ browser, server, consoleErrors }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async (name, options = {}) => {
      const { context, page } = await open(browser, server.url, consoleErrors, options);
      contexts.push(context);
      counter += 1;
      const username = `${name}_${Date.now().toString(36)}${counter}`;
      const password = "correct horse battery";
      await page.goto("/register");
      await page.getByLabel("Username").fill(username);
      await page.getByLabel("Email").fill(`${username}@example.org`);
      await page.getByLabel("Password").fill(password);
      await page.getByRole("button", { name: "Create account" }).click();
      await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
      const token = async () =>
        page.evaluate(() => (JSON.parse(localStorage.getItem("chronicle.session") ?? "{}") as { token: string }).token);
      return { page, context, username, password, token };
    });
    for (const context of contexts) await context.close();
  },
});

export async function open(browser: Browser, baseURL: string, errors: string[], look: Look = {}) {
  const context = await browser.newContext({ baseURL, ...look });
  const page = await context.newPage();
  watch(page, errors);
  return { context, page };
}

function watch(page: Page, errors: string[]) {
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`${page.url()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`${page.url()}: ${error.message}`));
}

/** A GraphQL request as `token`'s member, straight to the API (a write "meanwhile"). */
export async function api<T = Record<string, unknown>>(
  server: Server,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<T> {
  const response = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as T;
}

export async function createPost(server: Server, token: string, title: string, extra: { body?: string; tags?: string[]; publish?: boolean } = {}) {
  const data = await api<{ createPost: { post: { id: string; version: number } } }>(
    server,
    `mutation($input: CreatePostInput!) { createPost(input: $input) { post { id version } } }`,
    { input: { title, body: extra.body ?? `The body of ${title}.`, tags: extra.tags ?? [], publish: extra.publish ?? true } },
    token,
  );
  return data.createPost.post;
}

/** Grant admin with the command line, as an operator does; the member reloads to see it. */
export async function promote(server: Server, member: Member) {
  const done = server.cli("promote", member.username);
  if (done.status !== 0) throw new Error(`promote failed: ${done.stderr}`);
  const token = await member.token();
  await expect
    .poll(async () => (await api<{ me: { role: string } }>(server, "{ me { role } }", {}, token)).me.role, { timeout: 30_000 })
    .toBe("ADMIN");
}
