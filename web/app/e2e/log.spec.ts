import { join } from "node:path";
import { api, createPost, expect, promote, test } from "./fixtures";

test.afterEach(async ({ consoleErrors }) => {
  expect(consoleErrors).toEqual([]);
});

const shots = (dir: string, name: string) => join(dir, "screenshots", `${name}.png`);

test("the live log shows another member's public event live, and never their draft", async ({ member, server }, testInfo) => {
  const ada = await member("ada");
  const bob = await member("bob");
  const { page } = bob;
  await page.getByRole("link", { name: "Live log" }).click();
  const log = page.getByRole("region", { name: "Live log" });
  await expect(log.getByRole("status")).toHaveText("Live");
  await expect(log.getByRole("button", { name: "Pause" })).toBeVisible();
  // Bob's own registration is caught up first.
  await expect(log.getByRole("button", { name: /UserRegistered/ })).toHaveCount(1);

  const token = await ada.token();
  const draft = await createPost(server, token, "A secret draft", { publish: false });
  const published = await createPost(server, token, "A public post");
  await expect(log.getByRole("button", { name: new RegExp(`PostPublished.*${published.id.slice(0, 8)}`) })).toBeVisible();
  await expect(log.getByText(new RegExp(draft.id.slice(0, 8)))).toHaveCount(0);

  // Event detail: a copyable id, the data, metadata folded, links to the stream.
  await log.getByRole("button", { name: new RegExp(`PostCreated.*${published.id.slice(0, 8)}`) }).click();
  const detail = page.getByRole("region", { name: "Event detail" });
  await expect(detail.getByRole("button", { name: "Copy id" })).toBeVisible();
  await expect(detail.getByLabel("Event data")).toContainText('"title": "A public post"');
  await expect(detail.getByText('"correlationId"')).toBeHidden();
  await detail.getByText("Metadata").click();
  await expect(detail.getByText(/"correlationId"/)).toBeVisible();
  await page.screenshot({ path: shots(testInfo.project.outputDir, "live-log-desktop") });
  // Filters are kept in the URL.
  await page.getByRole("combobox", { name: "Event type" }).selectOption("PostPublished");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/type=PostPublished/);
  await expect(log.getByRole("listitem")).toHaveCount(1);
  await page.goto(`/log?stream=${published.id}`);
  await expect(log.getByRole("listitem")).toHaveCount(2);
  await log.getByRole("listitem").first().getByRole("button").click();
  await page.getByRole("region", { name: "Event detail" }).getByRole("link", { name: "The post's history" }).click();
  await expect(page.getByRole("heading", { name: "History" })).toBeVisible();
});

test("a paused live log holds still, and resuming catches up with nothing missing", async ({ member, server }) => {
  const ada = await member("ada");
  const bob = await member("bob");
  const { page } = bob;
  await page.goto("/log");
  const log = page.getByRole("region", { name: "Live log" });
  await expect(log.getByRole("status")).toHaveText("Live");
  const token = await ada.token();
  await createPost(server, token, "Before the pause");
  const count = page.getByTestId("log-count");
  await expect(count).toHaveText("3 events"); // bob registered; ada's post created and published
  await log.getByRole("button", { name: "Pause" }).click();
  await expect(log.getByRole("button", { name: "Resume" })).toBeVisible();
  const rowsBefore = await log.getByRole("listitem").allTextContents();

  const during = [];
  for (let i = 0; i < 3; i += 1) during.push(await createPost(server, token, `While paused ${i}`));
  await expect(log.getByRole("status")).toHaveText("Paused · 6 new events held");
  expect(await log.getByRole("listitem").allTextContents()).toEqual(rowsBefore);
  await expect(count).toHaveText("3 events");

  await log.getByRole("button", { name: "Resume" }).click();
  await expect(count).toHaveText("9 events");
  // Nothing missing: the same events, in the same order, as the API gives bob.
  const bobToken = await bob.token();
  const all = await api<{ events: { edges: { node: { position: string } }[] } }>(server, "{ events(first: 100) { edges { node { position } } } }", {}, bobToken);
  const positions = all.events.edges.map((edge) => `#${edge.node.position}`);
  const shown = await log.locator(".log-position").allTextContents();
  expect(shown).toEqual(positions);
  for (const post of during) await expect(log.getByRole("button", { name: new RegExp(`PostPublished.*${post.id.slice(0, 8)}`) })).toBeVisible();
});

test("forget me redacts the member's name and email in the log view", async ({ member, server }, testInfo) => {
  const admin = await member("root");
  await promote(server, admin);
  const ada = await member("ada");
  const adaEmail = `${ada.username}@example.org`;
  const { page } = admin;
  await page.goto(`/log?type=UserRegistered`);
  const log = page.getByRole("region", { name: "Live log" });
  await expect(log.getByRole("listitem")).toHaveCount(2);
  await log.getByRole("listitem").last().getByRole("button").click();
  const detail = page.getByRole("region", { name: "Event detail" });
  await expect(detail.getByLabel("Event data")).toContainText(adaEmail);

  // Ada forgets herself, from her account page.
  await ada.page.getByRole("link", { name: /Your account/ }).click();
  await expect(ada.page.getByText(adaEmail)).toBeVisible();
  await ada.page.getByRole("button", { name: "Forget me…" }).click();
  await expect(ada.page.getByRole("region", { name: "Forget me" })).toContainText("cannot be undone");
  await ada.page.screenshot({ path: shots(testInfo.project.outputDir, "account-forget-me-desktop") });
  await ada.page.getByLabel("Your password, to confirm").fill(ada.password);
  await ada.page.getByRole("button", { name: "Forget me for good" }).click();
  await expect(ada.page.getByRole("link", { name: "Sign in" })).toBeVisible();

  // Live: the admin's open log erases it at once; after a reload, the server serves it erased.
  await expect(detail.getByLabel("Event data")).not.toContainText(adaEmail);
  await expect(detail.getByLabel("Event data")).toContainText('"email": null');
  await page.reload();
  await expect(log.getByRole("listitem")).toHaveCount(2);
  await log.getByRole("listitem").last().getByRole("button").click();
  await expect(detail.getByLabel("Event data")).toContainText('"email": null');
  await expect(detail.getByLabel("Event data")).not.toContainText(adaEmail);
  await expect(detail.getByLabel("Event data")).toContainText('"displayName": null');
});
