import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, expect, open, promote, test } from "./fixtures";

// 100,000 generated events are written into the log before the server starts
// (e2e/seed_log.py, through the event store: a few seconds).
const EVENTS = 100_000;
test.use({ seedEvents: EVENTS });
test.setTimeout(300_000);

test.afterEach(async ({ consoleErrors }) => {
  expect(consoleErrors).toEqual([]);
});

test("100,000 events in the live log scroll without freezing; an admin rebuild shows progress to 100% while reads go on", async ({ member, server, browser, consoleErrors }, testInfo) => {
  const admin = await member("root");
  await promote(server, admin);
  const { page } = admin;
  const dir = join(testInfo.project.outputDir, "screenshots");
  mkdirSync(dir, { recursive: true });

  // The renderer's busy time (CDP metrics, in seconds) says how much of a wait is the page's own work.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const metric = async (name: string) =>
    ((await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === name)?.value ?? 0);

  // Catch-up of the whole log (an admin sees every event), then live.
  const catchUpScript = await metric("ScriptDuration");
  const catchUpTask = await metric("TaskDuration");
  const started = Date.now();
  await page.goto("/log");
  const log = page.getByRole("region", { name: "Live log" });
  await expect(page.getByTestId("log-count")).toHaveText(/^1\d\d,\d{3} events$/, { timeout: 180_000 });
  const catchUpMs = Date.now() - started;
  const catchUpScriptingMs = ((await metric("ScriptDuration")) - catchUpScript) * 1000;
  const catchUpTaskMs = ((await metric("TaskDuration")) - catchUpTask) * 1000;

  // Scroll from the live end to the top and back in 120 steps of one frame each,
  // measuring frame intervals and the renderer's scripting time.
  const scriptBefore = await metric("ScriptDuration");
  const taskBefore = await metric("TaskDuration");
  const frames = await page.getByTestId("log-scroller").evaluate(async (scroller: HTMLElement) => {
    const intervals: number[] = [];
    const steps = 120;
    const top = scroller.scrollHeight - scroller.clientHeight;
    let last = performance.now();
    for (let i = 0; i <= steps; i += 1) {
      const fraction = i <= steps / 2 ? 1 - (2 * i) / steps : (2 * i) / steps - 1;
      scroller.scrollTop = Math.round(top * fraction);
      await new Promise((done) => requestAnimationFrame(() => done(null)));
      const now = performance.now();
      intervals.push(now - last);
      last = now;
    }
    return intervals;
  });
  const scriptMs = ((await metric("ScriptDuration")) - scriptBefore) * 1000;
  const taskMs = ((await metric("TaskDuration")) - taskBefore) * 1000;
  const sorted = [...frames].sort((a, b) => a - b);
  const figures = {
    events: await page.getByTestId("log-count").textContent(),
    catchUpMs,
    catchUpScriptingMs: +catchUpScriptingMs.toFixed(0),
    catchUpTaskMs: +catchUpTaskMs.toFixed(0),
    frames: frames.length,
    meanFrameMs: +(frames.reduce((a, b) => a + b, 0) / frames.length).toFixed(1),
    p95FrameMs: +(sorted[Math.floor(sorted.length * 0.95)] ?? 0).toFixed(1),
    maxFrameMs: +(sorted[sorted.length - 1] ?? 0).toFixed(1),
    scriptingMs: +scriptMs.toFixed(0),
    taskMs: +taskMs.toFixed(0),
    renderedRows: await log.getByRole("listitem").count(),
  };
  writeFileSync(join(testInfo.project.outputDir, "scroll-100k.json"), JSON.stringify(figures, null, 2));
  testInfo.annotations.push({ type: "scroll-100k", description: JSON.stringify(figures) });
  console.log("100k scroll:", JSON.stringify(figures));
  // Virtualised: only the rows in view are in the document.
  expect(figures.renderedRows).toBeLessThan(100);
  await page.screenshot({ path: join(dir, "live-log-100k-desktop.png") });

  // The operator's view: rebuild while another visitor keeps reading.
  await page.getByRole("link", { name: "Admin" }).click();
  const table = page.getByRole("table", { name: "Projections" });
  await expect(table.getByRole("row")).not.toHaveCount(1);
  const reader = await open(browser, server.url, consoleErrors);
  let reads = 0;
  let failedReads = 0;
  let reading = true;
  const readLoop = (async () => {
    while (reading) {
      try {
        const data = await api<{ posts: { totalCount: number } }>(server, "{ posts(first: 5) { totalCount edges { node { id title } } } }");
        if (data.posts.totalCount > 0) reads += 1;
      } catch {
        failedReads += 1;
      }
      await reader.page.waitForTimeout(100);
    }
  })();
  await reader.page.goto("/");
  const row = table.getByRole("row").filter({ hasText: /post/i }).first();
  await row.getByRole("button", { name: /Rebuild/ }).click();
  const progress = page.getByRole("progressbar", { name: "Rebuild progress" });
  await expect(progress).toBeVisible();
  await page.screenshot({ path: join(dir, "admin-rebuild-desktop.png") });
  await expect(progress).toHaveAttribute("value", "100", { timeout: 120_000 });
  await expect(page.getByRole("region", { name: /Rebuild of/ })).toContainText("Done");
  // The second visitor's page kept working during the rebuild.
  await reader.page.reload();
  await expect(reader.page.getByRole("list", { name: "Feed" }).getByRole("article").first()).toBeVisible();
  reading = false;
  await readLoop;
  await reader.context.close();
  expect(failedReads).toBe(0);
  expect(reads).toBeGreaterThan(0);
  await page.screenshot({ path: join(dir, "admin-done-desktop.png") });
});
