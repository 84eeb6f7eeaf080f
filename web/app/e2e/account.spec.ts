import { createPost, expect, test } from "./fixtures";

test.afterEach(async ({ consoleErrors }) => {
  // The server closes the socket of the retired token on purpose.
  expect(consoleErrors.filter((e) => !/WebSocket/i.test(e))).toEqual([]);
});

test("a password change keeps the member signed in with the fresh token, and live", async ({ member, server }) => {
  const ada = await member("ada");
  const bob = await member("bob");
  const { page } = ada;
  await page.getByRole("link", { name: /Your account/ }).click();
  await page.getByLabel("Current password").fill(ada.password);
  await page.getByLabel("New password").fill("a brand new passphrase");
  const before = await ada.token();
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Your password was changed.")).toBeVisible();
  expect(await ada.token()).not.toEqual(before);
  await expect(page.getByRole("status", { name: "Connection" })).toHaveText("Live");
  await page.getByRole("link", { name: "Feed" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
  // The socket, reopened with the new token, still brings live updates.
  await createPost(server, await bob.token(), "Published after the change");
  await expect(page.getByRole("button", { name: "1 new posts" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
});
