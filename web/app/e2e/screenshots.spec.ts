import { join } from "node:path";
import { api, createPost, expect, open, promote, test } from "./fixtures";

// Screenshots of the main pages, light and dark, desktop and phone width:
// test artifacts under test-results/screenshots/ for people to look at. Whole
// pages, so what lies below the fold at a phone's width is seen too.
const viewports = { desktop: { width: 1280, height: 860 }, phone: { width: 390, height: 844 } } as const;

test("screenshots of the main pages, light and dark, desktop and phone", async ({ member, server, browser, consoleErrors }, testInfo) => {
  const ada = await member("ada");
  const token = await ada.token();
  const tags = [["python", "events"], ["graphql"], ["design", "css"], []];
  for (let i = 1; i <= 6; i += 1) {
    await createPost(server, token, `Notes on event sourcing, part ${i}`, {
      body: "Every change is a recorded domain event; the current state is derived from them.\n\nProjections keep read tables fast, and subscriptions push what changed.",
      tags: tags[i % tags.length]!,
    });
  }
  const post = await createPost(server, token, "What the audit trail gives readers", {
    body: "Who changed what, when and why.\n\nA second paragraph to show the layout of a longer body.",
    tags: ["audit", "events"],
  });
  await api(server, `mutation($input: AddCommentInput!) { addComment(input: $input) { position } }`,
    { input: { postId: post.id, body: "A thoughtful comment about the trail." } }, token);
  await api(server, `mutation($id: ID!) { likePost(id: $id) { position } }`, { id: post.id }, token);
  await api(server, `mutation($input: EditPostInput!) { editPost(input: $input) { position } }`,
    { input: { id: post.id, title: "What the audit trail gives its readers", body: "Who changed what, when and why, kept for good.\n\nA second paragraph to show the layout of a longer body." } }, token);
  await promote(server, ada);
  const { headPosition } = await api<{ headPosition: string }>(server, "{ headPosition }");
  const session = await ada.page.evaluate(() => localStorage.getItem("chronicle.session"));

  const dir = join(testInfo.project.outputDir, "screenshots");
  for (const scheme of ["light", "dark"] as const) {
    for (const [size, viewport] of Object.entries(viewports)) {
      const { context, page } = await open(browser, server.url, consoleErrors, { colorScheme: scheme });
      await page.setViewportSize(viewport);
      const shot = async (name: string) => {
        // From the top, so the sticky header sits where a reader sees it; at most
        // 2000 px of the page, enough to see its layout and small enough to look at.
        await page.evaluate(() => window.scrollTo(0, 0));
        const height = await page.evaluate(() => document.documentElement.scrollHeight);
        const clip = { x: 0, y: 0, width: viewport.width, height: Math.min(height, 2000) };
        await page.screenshot({ path: join(dir, `${name}-${scheme}-${size}.png`), fullPage: true, clip });
      };
      await page.goto("/signin");
      await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
      await shot("signin");
      await page.evaluate((saved) => localStorage.setItem("chronicle.session", saved ?? ""), session);
      await page.goto("/");
      await expect(page.getByRole("list", { name: "Feed" }).getByRole("article")).toHaveCount(7);
      await expect(page.getByRole("status", { name: "Connection" })).toHaveText("Live");
      await shot("feed");
      await page.goto(`/posts/${post.id}`);
      await expect(page.getByRole("button", { name: "Like" })).toHaveAttribute("aria-pressed", "true");
      await shot("post");
      await page.goto("/new");
      await page.getByLabel("Body").fill("A body, but no title yet.");
      await page.getByRole("button", { name: "Publish" }).click();
      await expect(page.getByLabel("Title")).toHaveAttribute("aria-invalid", "true");
      await shot("compose-errors");
      await page.goto(`/posts/${post.id}/history?v=2`);
      await expect(page.getByRole("slider", { name: "Version" })).toHaveValue("2");
      await expect(page.getByRole("group", { name: /Changes from version 1/ })).toBeVisible();
      await shot("history");
      await page.goto(`/?asOf=${Number(headPosition) - 8}`);
      await expect(page.getByRole("note", { name: "Viewing the past" })).toBeVisible();
      await shot("feed-as-of");
      await page.goto("/log");
      await expect(page.getByTestId("log-count")).toHaveText(/^\d\d events$/);
      await page.getByRole("region", { name: "Live log" }).getByRole("listitem").last().getByRole("button").click();
      await shot("live-log");
      await page.goto("/catalogue");
      await expect(page.getByRole("heading", { name: "PostCreated" })).toBeVisible();
      await shot("catalogue");
      await page.goto("/account");
      await page.getByRole("button", { name: "Forget me…" }).click();
      await shot("account");
      await page.goto("/admin");
      await expect(page.getByRole("table", { name: "Projections" }).getByRole("row")).not.toHaveCount(0);
      await page.getByRole("button", { name: "Rebuild" }).first().click();
      await expect(page.getByRole("progressbar", { name: "Rebuild progress" })).toBeVisible();
      await expect(page.getByRole("region", { name: /^Rebuild of / }).getByRole("status")).toContainText("Done");
      await shot("admin");
      await page.evaluate(() => localStorage.removeItem("chronicle.draft.new"));
      await context.close();
    }
  }
});
