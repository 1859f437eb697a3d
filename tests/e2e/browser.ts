import * as assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";

/** Debian's Chromium; playwright-core drives it and never downloads a browser of its own. */
export const CHROMIUM = process.env.LAUNCHPAD_CHROMIUM ?? "/usr/bin/chromium";

/** Chromium, headless as this machine runs it; `executablePath` for one started another way (in a namespace). */
export async function launchChromium(executablePath: string = CHROMIUM): Promise<Browser> {
    const { chromium } = await import("playwright-core");
    return chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
}

/** Opens the app at `url` with no notes yet, as a user does, and adds `note` through its form; it must show up in the list. */
export async function addNote(page: Page, url: string, note: string): Promise<void> {
    const response = await page.goto(url);
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), "launchpad notes");
    await page.waitForFunction(`document.querySelector("#status").textContent !== ""`, undefined, { timeout: 15_000 });
    assert.equal(await page.locator("#status").textContent(), "No notes yet.");
    await page.getByLabel("New note").fill(note);
    await page.getByRole("button", { name: "Add note" }).click();
    await page.locator("#notes li", { hasText: note }).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator("#status").textContent(), "", "no error on the page");
}
