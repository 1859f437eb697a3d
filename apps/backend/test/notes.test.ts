import assert from "node:assert/strict";
import { MAX_NOTE_LENGTH, validateNoteInput } from "../src/notes";

describe("note validation", () => {
  it("accepts text and trims surrounding whitespace", () => {
    assert.deepEqual(validateNoteInput({ text: "  hello \n" }), { ok: true, text: "hello" });
  });

  it("counts characters, not UTF-16 units, against the 500 limit", () => {
    const emoji = "🚀".repeat(MAX_NOTE_LENGTH);
    assert.deepEqual(validateNoteInput({ text: emoji }), { ok: true, text: emoji });
    assert.equal(validateNoteInput({ text: emoji + "🚀" }).ok, false);
  });

  it("rejects a body that is not an object", () => {
    for (const body of [null, [], "text", 3]) {
      assert.equal(validateNoteInput(body).ok, false, JSON.stringify(body));
    }
  });
});
