import { join } from "node:path";
import { api, createPost, expect, test } from "./fixtures";

test.afterEach(async ({ consoleErrors }) => {
  expect(consoleErrors).toEqual([]);
});

const EDIT = `mutation($input: EditPostInput!) { editPost(input: $input) { position post { version } } }`;

test("a post edited three times is stepped through with the slider and the keyboard, then restored to version 1", async ({ member, server }, testInfo) => {
  const ada = await member("ada");
  const token = await ada.token();
  const post = await createPost(server, token, "First title", { body: "The quick brown fox jumps over the lazy dog." });
  let version = post.version;
  const titles = ["Second title", "Third title", "Fourth title"];
  for (const [index, title] of titles.entries()) {
    const done = await api<{ editPost: { post: { version: number } } }>(server, EDIT,
      { input: { id: post.id, title, body: `The quick brown fox jumps over the lazy dog, edit ${index + 1}.` } }, token);
    version = done.editPost.post.version;
  }
  const { page } = ada;
  await page.goto(`/posts/${post.id}`);
  await page.getByRole("link", { name: "History" }).click();
  await expect(page).toHaveURL(new RegExp(`/posts/${post.id}/history`));
  const slider = page.getByRole("slider", { name: "Version" });
  await expect(slider).toHaveValue(String(version));
  const asItWas = page.getByRole("region", { name: /^Version \d+$/ });
  await expect(asItWas.getByRole("heading", { name: "Fourth title" })).toBeVisible();
  // The audit trail: one row per event, with who and when.
  const trail = page.getByRole("table");
  await expect(trail.getByRole("row")).toHaveCount(version + 1);
  await expect(trail.getByRole("row").nth(1)).toContainText("Post created");
  await expect(trail.getByRole("row").nth(1)).toContainText("you");

  // Keyboard: arrows step through the versions; the URL follows.
  await slider.focus();
  await page.keyboard.press("ArrowLeft");
  await expect(slider).toHaveValue(String(version - 1));
  await expect(page).toHaveURL(new RegExp(`\\?v=${version - 1}$`));
  await expect(asItWas.getByRole("heading", { name: "Third title" })).toBeVisible();
  await page.keyboard.press("Home");
  await expect(slider).toHaveValue("1");
  await expect(asItWas.getByRole("heading", { name: "First title" })).toBeVisible();
  // Step buttons.
  await page.getByRole("button", { name: "Next version" }).click();
  await expect(slider).toHaveValue("2");
  await page.getByRole("button", { name: "Previous version" }).click();
  await expect(slider).toHaveValue("1");
  // The version is in the URL: a reload shows the same one.
  await page.reload();
  await expect(slider).toHaveValue("1");

  // The diff between two versions, word by word, inline and split.
  const compare = page.getByRole("region", { name: "Compare versions" });
  await compare.getByRole("combobox", { name: "From" }).selectOption("1");
  await compare.getByRole("combobox", { name: "To" }).selectOption(String(version));
  const diff = compare.getByRole("group", { name: `Changes from version 1 to version ${version}` });
  await expect(diff.locator("del").first()).toHaveText("First");
  await expect(diff.locator("ins").first()).toHaveText("Fourth");
  await compare.getByRole("button", { name: "Split" }).click();
  await expect(diff.getByLabel("Version 1", { exact: true }).first()).toContainText("First title");
  await page.screenshot({ path: join(testInfo.project.outputDir, "screenshots", "history-desktop.png"), fullPage: true });

  // Restore version 1, confirmed with the diff from the current version.
  await page.getByRole("button", { name: "Restore this version" }).click();
  const dialog = page.getByRole("dialog", { name: "Restore version 1?" });
  await expect(dialog.locator("del").first()).toHaveText("Fourth");
  await expect(dialog.locator("ins").first()).toHaveText("First");
  await dialog.getByRole("button", { name: "Restore version 1" }).click();
  await expect(slider).toHaveValue(String(version + 1));
  await expect(trail.getByRole("row")).toHaveCount(version + 2);
  await expect(trail.getByRole("row").last()).toContainText("Post restored");
  await expect(asItWas.getByRole("heading", { name: "First title" })).toBeVisible();
  await page.getByRole("link", { name: "← First title" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "First title" })).toBeVisible();
});

test("the feed as of a position before a post was published does not show it", async ({ member, server }, testInfo) => {
  const ada = await member("ada");
  const token = await ada.token();
  await createPost(server, token, "An early post");
  const { headPosition: before } = await api<{ headPosition: string }>(server, "{ headPosition }");
  await createPost(server, token, "A later post");
  const { page } = ada;
  await page.goto("/");
  const feed = page.getByRole("list", { name: "Feed" });
  await expect(feed.getByRole("heading", { name: "A later post" })).toBeVisible();
  await page.getByLabel("As of position").fill(before);
  await page.getByRole("button", { name: "Show the past" }).click();
  await expect(page).toHaveURL(new RegExp(`asOf=${before}`));
  await expect(page.getByRole("note", { name: "Viewing the past" })).toContainText(`position ${before}`);
  await expect(feed.getByRole("heading", { name: "An early post" })).toBeVisible();
  await expect(feed.getByRole("heading", { name: "A later post" })).toHaveCount(0);
  await page.screenshot({ path: join(testInfo.project.outputDir, "screenshots", "feed-as-of-desktop.png") });
  await page.getByRole("link", { name: "Back to now" }).click();
  await expect(page.getByRole("note", { name: "Viewing the past" })).toHaveCount(0);
  await expect(feed.getByRole("heading", { name: "A later post" })).toBeVisible();
});
