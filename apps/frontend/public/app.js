// Lists and adds notes through the backend. The Ingress routes /api to the backend,
// so the page only ever calls relative URLs on its own origin.
"use strict";

const API = "/api/notes";
const form = document.getElementById("note-form");
const input = document.getElementById("note-text");
const list = document.getElementById("notes");
const statusLine = document.getElementById("status");

async function request(options) {
  const res = await fetch(API, { headers: { Accept: "application/json" }, ...options });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    throw new Error((body && body.error) || `${res.status} ${res.statusText}`);
  }
  return body;
}

function render(notes) {
  list.replaceChildren(
    ...notes.map((note) => {
      const item = document.createElement("li");
      const time = document.createElement("time");
      time.dateTime = note.createdAt;
      time.textContent = new Date(note.createdAt).toLocaleString();
      item.append(note.text, time); // text nodes, never HTML
      return item;
    }),
  );
  statusLine.textContent = notes.length === 0 ? "No notes yet." : "";
}

async function refresh() {
  try {
    render(await request({ method: "GET" }));
  } catch (error) {
    statusLine.textContent = `Could not load notes: ${error.message}`;
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  statusLine.textContent = "";
  try {
    await request({
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify({ text: input.value }),
    });
    input.value = "";
    await refresh();
  } catch (error) {
    statusLine.textContent = `Could not add the note: ${error.message}`;
  }
});

refresh();
