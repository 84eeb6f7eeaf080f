import { api, createPost, expect, open, test } from "./fixtures";

test.afterEach(async ({ consoleErrors }, testInfo) => {
  // No console errors, except what a test that cuts the socket causes on purpose.
  const allowed = testInfo.annotations.some((a) => a.type === "socket-cut")
    ? consoleErrors.filter((e) => !/WebSocket/i.test(e))
    : consoleErrors;
  expect(allowed).toEqual([]);
});

test("a member registers, stays signed in across a reload, signs out and back in", async ({ member }) => {
  const { page, username, password } = await member("ada");
  await expect(page.getByRole("status", { name: "Connection" })).toHaveText("Live");
  await page.reload();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  await expect(page.getByRole("link", { name: "New post" })).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("link", { name: "Sign in" })).toBeVisible();
  await page.getByRole("link", { name: "Sign in" }).click();
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toBeVisible();
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
});

test("an expired session leads to sign-in and back, keeping what was typed", async ({ member }) => {
  const { page, username, password } = await member("sleepy");
  await page.getByRole("link", { name: "New post" }).click();
  await page.getByLabel("Title").fill("Typed before the token expired");
  await page.getByLabel("Body").fill("Every word of it.");
  // The token is no longer accepted (as when it expires).
  await page.evaluate(() => {
    const saved = JSON.parse(localStorage.getItem("chronicle.session") ?? "{}") as Record<string, unknown>;
    localStorage.setItem("chronicle.session", JSON.stringify({ ...saved, token: "expired.token.value" }));
  });
  await page.reload();
  await expect(page.getByText("Your session has ended")).toBeVisible();
  await expect(page).toHaveURL(/\/signin$/);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/new$/);
  await expect(page.getByLabel("Title")).toHaveValue("Typed before the token expired");
  await expect(page.getByLabel("Body")).toHaveValue("Every word of it.");
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByRole("heading", { name: "Typed before the token expired" })).toBeVisible();
});

test("a post published by one member reaches the other's feed behind a pill, without moving the page", async ({ member, server }) => {
  const author = await member("author");
  const reader = await member("reader");
  const token = await author.token();
  for (let i = 1; i <= 25; i += 1) await createPost(server, token, `Older post ${i}`, { tags: i % 2 ? ["odd"] : ["even"] });

  await reader.page.goto("/");
  const feed = reader.page.getByRole("list", { name: "Feed" });
  await expect(feed.getByRole("article")).toHaveCount(20);
  // Infinite scroll: the next cursor page arrives at the bottom.
  await reader.page.getByRole("article").last().scrollIntoViewIfNeeded();
  await expect(feed.getByRole("article")).toHaveCount(25);
  await reader.page.evaluate(() => window.scrollTo(0, 600));
  const scrolled = await reader.page.evaluate(() => window.scrollY);

  await author.page.getByRole("link", { name: "New post" }).click();
  await author.page.getByLabel("Title").fill("Hello from the author");
  await author.page.getByLabel("Body").fill("Published live.");
  await author.page.getByLabel("Tags").fill("news, live");
  await author.page.getByRole("button", { name: "Publish" }).click();
  await expect(author.page.getByRole("heading", { name: "Hello from the author" })).toBeVisible();

  const pill = reader.page.getByRole("button", { name: "1 new posts" });
  await expect(pill).toBeVisible();
  await expect(feed.getByRole("heading", { name: "Hello from the author" })).toHaveCount(0);
  expect(await reader.page.evaluate(() => window.scrollY)).toBe(scrolled);
  await pill.click();
  await expect(feed.getByRole("article").first().getByRole("heading")).toHaveText("Hello from the author");

  // Changed posts update in place, live.
  await author.page.getByRole("link", { name: "Edit" }).click();
  await author.page.getByLabel("Title").fill("Hello, edited");
  await author.page.getByRole("button", { name: "Save changes" }).click();
  await expect(feed.getByRole("article").first().getByRole("heading")).toHaveText("Hello, edited");

  // The author's own feed, visited again, starts with the new post.
  await author.page.getByRole("link", { name: "Feed", exact: true }).click();
  await expect(author.page.getByRole("list", { name: "Feed" }).getByRole("article").first().getByRole("heading")).toHaveText("Hello, edited");

  // Filters live in the URL.
  await reader.page.goto("/?tag=odd");
  await expect(feed.getByRole("article")).toHaveCount(13);
  await expect(reader.page.getByRole("textbox", { name: "Tag" })).toHaveValue("odd");
});

test("a like and a comment appear live on the other member's page", async ({ member, server }) => {
  const author = await member("writer");
  const reader = await member("fan");
  const post = await createPost(server, await author.token(), "Like me", { body: "A post to like." });

  await author.page.goto(`/posts/${post.id}`);
  await reader.page.goto(`/posts/${post.id}`);
  const like = reader.page.getByRole("button", { name: "Like" });
  await expect(like).toHaveAttribute("aria-pressed", "false");
  await like.click();
  await expect(like).toHaveAttribute("aria-pressed", "true");
  await expect(author.page.getByText("1 like", { exact: true })).toBeVisible();
  await like.click();
  await expect(like).toHaveAttribute("aria-pressed", "false");
  await expect(author.page.getByText("0 likes", { exact: true })).toBeVisible();

  await reader.page.getByLabel("Comment").fill("Lovely post!");
  await reader.page.getByRole("button", { name: "Add comment" }).click();
  await expect(reader.page.getByLabel("Comment")).toHaveValue("");
  await expect(author.page.getByRole("list", { name: "Discussion" }).getByText("Lovely post!")).toBeVisible();
  await expect(reader.page.getByRole("list", { name: "Discussion" }).getByText("Lovely post!")).toHaveCount(1);
});

test("an edit that conflicts with a change made meanwhile says so and keeps the text", async ({ member, server, browser, consoleErrors }) => {
  const author = await member("editor");
  const post = await createPost(server, await author.token(), "Original title");
  // The same author in another browser edits first.
  const other = await open(browser, server.url, consoleErrors);
  await other.page.goto("/signin");
  await other.page.getByLabel("Username").fill(author.username);
  await other.page.getByLabel("Password").fill(author.password);
  await other.page.getByRole("button", { name: "Sign in" }).click();
  await expect(other.page.getByRole("button", { name: "Sign out" })).toBeVisible();

  await author.page.goto(`/posts/${post.id}/edit`);
  await author.page.getByLabel("Title").fill("My title");
  await other.page.goto(`/posts/${post.id}/edit`);
  await other.page.getByLabel("Title").fill("Their title");
  await other.page.getByRole("button", { name: "Save changes" }).click();
  await expect(other.page.getByRole("heading", { name: "Their title" })).toBeVisible();

  await author.page.getByRole("button", { name: "Save changes" }).click();
  const alert = author.page.getByRole("alert").filter({ hasText: "changed meanwhile" });
  await expect(alert).toBeVisible();
  await expect(alert).toContainText("Their title");
  await expect(author.page.getByLabel("Title")).toHaveValue("My title");
  await author.page.getByRole("button", { name: "Keep my text over the newer version" }).click();
  await author.page.getByRole("button", { name: "Save changes" }).click();
  await expect(author.page.getByRole("heading", { name: "My title" })).toBeVisible();
  await other.context.close();
});

test("the author saves a draft, publishes, archives and deletes it, with the keyboard", async ({ member }) => {
  const { page } = await member("keys");
  await page.getByRole("link", { name: "New post" }).click();
  await page.getByLabel("Title").focus();
  await page.keyboard.type("Drafted by keyboard");
  await page.keyboard.press("Tab");
  await page.keyboard.type("Body typed without a mouse.");
  await page.keyboard.press("Tab");
  await page.keyboard.type("keyboard");
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Publish" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: "Save draft" })).toBeFocused();
  // Focus is visible: the focused control draws an outline.
  const outline = await page.getByRole("button", { name: "Save draft" }).evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).not.toBe("none");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Drafted by keyboard" })).toBeVisible();
  await expect(page.getByText("Draft", { exact: true })).toBeVisible();

  await page.getByRole("link", { name: "Drafts" }).click();
  await expect(page.getByRole("list", { name: "Drafts" }).getByRole("heading", { name: "Drafted by keyboard" })).toBeVisible();
  await page.getByRole("link", { name: "Drafted by keyboard" }).click();

  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByRole("button", { name: "Archive" })).toBeVisible();
  await expect(page.getByText("Draft", { exact: true })).toHaveCount(0);
  await page.getByRole("link", { name: "Feed", exact: true }).click();
  await expect(page.getByRole("list", { name: "Feed" }).getByRole("heading", { name: "Drafted by keyboard" })).toBeVisible();
  await page.getByRole("link", { name: "Drafted by keyboard" }).click();
  await page.getByRole("button", { name: "Archive" }).click();
  await expect(page.getByText("Archived", { exact: true })).toBeVisible();
  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: "Delete" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByText("No posts here yet.")).toBeVisible();
});

test("an invalid post shows the server's messages beside the fields and loses nothing", async ({ member }) => {
  const { page } = await member("typo");
  await page.getByRole("link", { name: "New post" }).click();
  await page.getByLabel("Body").fill("A body without a title.");
  await page.getByLabel("Tags").fill("a, b, c, d, e, f, g, h, i, j, k");
  await page.getByRole("button", { name: "Publish" }).click();
  const title = page.getByLabel("Title");
  await expect(title).toHaveAttribute("aria-invalid", "true");
  await expect(title).toHaveAccessibleDescription(/title must not be empty/);
  await expect(page.getByLabel("Body")).toHaveValue("A body without a title.");

  await title.fill("Now with a title");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.getByLabel("Tags")).toHaveAccessibleDescription(/at most 10 tags/);
  // The draft survives a reload too.
  await page.reload();
  await expect(page.getByLabel("Title")).toHaveValue("Now with a title");
  await page.getByLabel("Tags").fill("a, b");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.getByRole("heading", { name: "Now with a title" })).toBeVisible();
  await expect(page.getByText("Draft", { exact: true })).toBeVisible();
});

test("after the socket is cut and restored, the views catch up with what was written meanwhile", async ({ member, server }, testInfo) => {
  testInfo.annotations.push({ type: "socket-cut", description: "the test closes the websocket on purpose" });
  const author = await member("talker");
  const token = await author.token();
  const post = await createPost(server, token, "Stay tuned");
  const { page, context } = await member("listener");

  let down = false;
  const open: { close: () => Promise<void> }[] = [];
  await context.routeWebSocket(/\/graphql$/, (socket) => {
    if (down) {
      void socket.close({ code: 4000, reason: "cut by the test" });
      return;
    }
    socket.connectToServer();
    open.push(socket);
  });
  // Two live views in two tabs: the post's page and the feed.
  await page.goto(`/posts/${post.id}`);
  const feedPage = await context.newPage();
  await feedPage.goto("/");
  const feed = feedPage.getByRole("list", { name: "Feed" });
  await expect(feed.getByRole("heading", { name: "Stay tuned" })).toBeVisible();
  const status = page.getByRole("status", { name: "Connection" });
  await expect(status).toHaveText("Live");
  await expect(feedPage.getByRole("status", { name: "Connection" })).toHaveText("Live");

  down = true;
  for (const socket of open.splice(0)) await socket.close();
  await expect(status).not.toHaveText("Live");
  await expect(feedPage.getByRole("status", { name: "Connection" })).not.toHaveText("Live");

  await api(server, `mutation($input: AddCommentInput!) { addComment(input: $input) { position } }`,
    { input: { postId: post.id, body: "Written while you were away" } }, token);
  await api(server, `mutation($input: EditPostInput!) { editPost(input: $input) { position } }`,
    { input: { id: post.id, title: "Stay tuned (updated)" } }, token);
  await createPost(server, token, "Published while you were away");
  await expect(page.getByText("Written while you were away")).toHaveCount(0);

  down = false;
  for (const tab of [page, feedPage]) {
    const retry = tab.getByRole("button", { name: "Retry" });
    if (await retry.isVisible()) await retry.click();
    await expect(tab.getByRole("status", { name: "Connection" })).toHaveText("Live", { timeout: 30_000 });
  }
  await expect(page.getByRole("heading", { name: "Stay tuned (updated)" })).toBeVisible();
  await expect(page.getByRole("list", { name: "Discussion" }).getByText("Written while you were away")).toBeVisible();
  // The feed: the shown post changed in place, the new one waits behind the pill.
  await expect(feed.getByRole("heading", { name: "Stay tuned (updated)" })).toBeVisible();
  await feedPage.getByRole("button", { name: "1 new posts" }).click();
  await expect(feed.getByRole("article").first().getByRole("heading")).toHaveText("Published while you were away");
  // And it is live again afterwards.
  await api(server, `mutation($input: AddCommentInput!) { addComment(input: $input) { position } }`,
    { input: { postId: post.id, body: "And this one live" } }, token);
  await expect(page.getByText("And this one live")).toBeVisible();
});

test("GraphiQL at /graphql runs a subscription", async ({ page, server, member }) => {
  const author = await member("graphiql");
  await page.goto("/graphql");
  const editor = page.locator(".graphiql-query-editor .monaco-editor").first();
  await expect(editor).toBeVisible({ timeout: 30_000 });
  await editor.click();
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText("subscription Watch { feed { change post { title } } }");
  // GraphiQL ignores Execute until its editors are all built (a click right after the
  // page loads can land before Monaco's result editor exists, and nothing runs): click
  // again until the subscription runs. A click that did start it turned it into Stop.
  const stop = page.getByRole("button", { name: /stop/i }).first();
  await expect(async () => {
    if (!(await stop.isVisible())) {
      await page.getByRole("button", { name: /execute/i }).first().click({ timeout: 2_000 });
    }
    await expect(stop).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await createPost(server, await author.token(), "Seen in GraphiQL");
  await expect(page.locator(".graphiql-response")).toContainText("Seen in GraphiQL");
});
