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
  await page.getByText("See the feed as it was").click();
  await page.getByLabel("As of log position").fill(before);
  await page.getByRole("button", { name: "Show the feed at that position" }).click();
  await expect(page).toHaveURL(new RegExp(`asOf=${before}`));
  await expect(page.getByRole("note", { name: "Viewing the past" })).toContainText(`position ${before}`);
  await expect(feed.getByRole("heading", { name: "An early post" })).toBeVisible();
  await expect(feed.getByRole("heading", { name: "A later post" })).toHaveCount(0);
  await page.screenshot({ path: join(testInfo.project.outputDir, "screenshots", "feed-as-of-desktop.png") });
  await page.getByRole("link", { name: "Back to now" }).click();
  await expect(page.getByRole("note", { name: "Viewing the past" })).toHaveCount(0);
  await expect(feed.getByRole("heading", { name: "A later post" })).toBeVisible();
});

test("the feed as of a time before a post was published does not show it, and as of a time after does", async ({ member, server }, testInfo) => {
  // Far from UTC, at an offset of 5:45: the control speaks the member's local time.
  const ada = await member("ada", { timezoneId: "Asia/Kathmandu" });
  const token = await ada.token();
  const publishedAt = async (id: string) =>
    Date.parse((await api<{ post: { publishedAt: string } }>(server, "query($id: ID!) { post(id: $id) { publishedAt } }", { id })).post.publishedAt);
  // The control takes whole seconds (and a browser may write hh:mm for hh:mm:00,
  // so a :00 is stepped over): the second after the early post...
  const nextSecond = (ms: number) => {
    const second = Math.floor(ms / 1000) * 1000 + 1000;
    return new Date(second).getUTCSeconds() === 0 ? second + 1000 : second;
  };
  const between = nextSecond(await publishedAt((await createPost(server, token, "An early post")).id));
  // ...is over before the later post is written (the server runs on this machine's clock).
  while (Date.now() <= between) await new Promise((resolve) => setTimeout(resolve, between + 20 - Date.now()));
  const later = await publishedAt((await createPost(server, token, "A later post")).id);
  expect(later).toBeGreaterThan(between);
  const after = nextSecond(later);

  const { page } = ada;
  await page.goto("/");
  const feed = page.getByRole("list", { name: "Feed" });
  await expect(feed.getByRole("heading", { name: "A later post" })).toBeVisible();
  const localInput = (ms: number) =>
    page.evaluate((at) => {
      const d = new Date(at);
      const pad = (n: number) => String(n).padStart(2, "0");
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    }, ms);
  const when = page.getByLabel("As of date and time (your local time)");
  const past = page.getByRole("note", { name: "Viewing the past" });

  await page.getByText("See the feed as it was").click();
  await when.fill(await localInput(between));
  await page.getByRole("button", { name: "Show the feed then" }).click();
  await expect(page).toHaveURL(new RegExp(`at=${encodeURIComponent(new Date(between).toISOString())}`));
  await expect(past).toContainText(await page.evaluate((at) => new Date(at).toLocaleString(), between));
  await expect(past).toContainText(/\(log position \d+\)/);
  await expect(feed.getByRole("heading", { name: "An early post" })).toBeVisible();
  await expect(feed.getByRole("heading", { name: "A later post" })).toHaveCount(0);
  await page.screenshot({ path: join(testInfo.project.outputDir, "screenshots", "feed-as-of-time-desktop.png") });
  // The choice is in the URL: a reload shows the same past, and the control keeps it.
  await page.reload();
  await expect(feed.getByRole("heading", { name: "An early post" })).toBeVisible();
  await expect(feed.getByRole("heading", { name: "A later post" })).toHaveCount(0);
  await expect(when).toHaveValue(await localInput(between));

  await when.fill(await localInput(after));
  await page.getByRole("button", { name: "Show the feed then" }).click();
  await expect(page).toHaveURL(new RegExp(`at=${encodeURIComponent(new Date(after).toISOString())}`));
  await expect(feed.getByRole("heading", { name: "A later post" })).toBeVisible();
  await expect(feed.getByRole("heading", { name: "An early post" })).toBeVisible();
  await expect(past).toBeVisible();

  await past.getByRole("link", { name: "Back to now" }).click();
  await expect(past).toHaveCount(0);
  await expect(page).not.toHaveURL(/at=/);
  await expect(when).toHaveValue("");
  await expect(feed.getByRole("heading", { name: "A later post" })).toBeVisible();
});
