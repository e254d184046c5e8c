// The local chat page: talks to the emulator's user API (/emulator/...) as one user per tab.
"use strict";

const chat = document.getElementById("chat");
const input = document.getElementById("input");
const menu = document.getElementById("menu");
const attach = document.getElementById("attach");
const fileInput = document.getElementById("file");
// Telegram lets a bot fetch files of at most 20 MB (getFile), so a larger one could never reach it.
const MAX_FILE_BYTES = 20 * 1024 * 1024;
// What Telegram's apps send as mime_type when the browser does not know the file's type.
const MIME_TYPES = {
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  pdf: "application/pdf",
  txt: "text/plain",
};
const params = new URLSearchParams(location.search);
let userId = Number(params.get("user") || sessionStorage.getItem("userId"));
if (!userId) {
  userId = 100000 + Math.floor(Math.random() * 900000);
}
sessionStorage.setItem("userId", String(userId));
const firstName = params.get("name") || "Medarbejder";
document.getElementById("me").textContent = "bruger " + userId;

let after = 0;
const bubbles = new Map();  // message_id -> row element

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  });
  if (!response.ok) {
    const error = new Error(await response.text());
    error.status = response.status;
    throw error;
  }
  return response.json();
}

function extension(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

// 512 B, 23,4 kB, 1,2 MB: as Telegram shows a file's size, with a Danish decimal comma.
function fileSize(bytes) {
  if (bytes < 1024) return bytes + " B";
  const [unit, scale] = bytes < 1024 * 1024 ? ["kB", 1024] : ["MB", 1024 * 1024];
  return (bytes / scale).toLocaleString("da-DK", {maximumFractionDigits: 1}) + " " + unit;
}

// Telegram's HTML subset, rendered safely: unknown tags become their text.
const ALLOWED = new Set(["B", "STRONG", "I", "EM", "U", "INS", "S", "STRIKE", "DEL", "CODE", "PRE", "BLOCKQUOTE", "A"]);
function renderHtml(target, html) {
  const doc = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html");
  function copy(from, to) {
    for (const node of from.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) { to.appendChild(document.createTextNode(node.textContent)); continue; }
      if (node.nodeType !== Node.ELEMENT_NODE) continue;
      if (!ALLOWED.has(node.tagName)) { copy(node, to); continue; }
      const el = document.createElement(node.tagName);
      if (node.tagName === "A") {
        const href = node.getAttribute("href") || "";
        if (/^https?:\/\//.test(href)) { el.href = href; el.target = "_blank"; el.rel = "noopener"; }
      }
      copy(node, el);
      to.appendChild(el);
    }
  }
  copy(doc.body.firstChild, target);
}

function toast(text, long = false) {
  const el = document.createElement("div");
  el.className = "toast"; el.textContent = text;
  el.setAttribute("role", "status");
  document.body.appendChild(el);
  setTimeout(() => el.remove(), long ? 5000 : 2500);
}

function keyboard(message) {
  const rows = (message.reply_markup && message.reply_markup.inline_keyboard) || [];
  if (!rows.length) return null;
  const box = document.createElement("div");
  box.className = "keyboard";
  for (const row of rows) {
    const line = document.createElement("div");
    line.className = "krow";
    for (const button of row) {
      const el = document.createElement("button");
      el.type = "button";
      el.textContent = button.text;
      if (button.url) {
        el.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
      } else {
        el.addEventListener("click", () => press(message.message_id, button.callback_data));
      }
      line.appendChild(el);
    }
    box.appendChild(line);
  }
  return box;
}

function pollView(message) {
  const poll = message.poll;
  const box = document.createElement("div");
  box.className = "poll";
  const q = document.createElement("div"); q.className = "q"; q.textContent = poll.question; box.appendChild(q);
  const kind = document.createElement("div"); kind.className = "kind";
  kind.textContent = poll.type === "quiz" ? "Quiz" : "Afstemning"; box.appendChild(kind);
  const mine = poll.voted && poll.voted[String(userId)];
  const correct = poll.correct_option_ids || [];
  poll.options.forEach((option, index) => {
    const el = document.createElement("button");
    el.type = "button"; el.className = "opt"; el.textContent = option.text;
    if (mine) {
      el.disabled = true;
      if (correct.includes(index)) el.classList.add("right");
      else if (mine.includes(index)) el.classList.add("wrong");
    } else {
      el.addEventListener("click", () => vote(poll.id, index));
    }
    box.appendChild(el);
  });
  if (mine && poll.explanation) {
    const ex = document.createElement("div"); ex.className = "explain"; ex.textContent = "💡 " + poll.explanation;
    box.appendChild(ex);
  }
  return box;
}

// A file in the chat, as Telegram shows it: a badge with its type, then its name and size.
function documentView(file) {
  const name = file.file_name || "fil";
  const a = document.createElement("a");
  a.className = "file";
  a.href = "/emulator/files/" + encodeURIComponent(file.file_id);
  a.download = name;
  a.title = name;
  const type = extension(name);
  const badge = document.createElement("span");
  badge.className = "file-badge" + (MIME_TYPES[type] ? " file-" + type : "");
  badge.textContent = type && type.length <= 4 ? type.toUpperCase() : "FIL";
  badge.setAttribute("aria-hidden", "true");
  const text = document.createElement("span");
  text.className = "file-text";
  const title = document.createElement("span"); title.className = "file-name"; title.textContent = name;
  const size = document.createElement("span"); size.className = "file-size";
  size.textContent = file.file_size != null ? fileSize(file.file_size) : "";
  text.append(title, size);
  a.append(badge, text);
  return a;
}

function caption(message) {
  const c = document.createElement("div");
  c.className = "caption";
  if (message.parse_mode === "HTML") renderHtml(c, message.caption); else c.textContent = message.caption;
  return c;
}

function render(event) {
  const message = event.message;
  const row = document.createElement("div");
  row.className = "row " + event.sender;
  row.dataset.messageId = message.message_id;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  if (message.poll) {
    bubble.appendChild(pollView(message));
  } else if (message.photo) {
    bubble.classList.add("photo");
    const img = document.createElement("img");
    img.src = "/emulator/files/" + encodeURIComponent(message.photo[message.photo.length - 1].file_id);
    img.alt = message.caption || "billede";
    bubble.appendChild(img);
    if (message.caption) bubble.appendChild(caption(message));
  } else if (message.document) {
    bubble.classList.add("doc");
    bubble.appendChild(documentView(message.document));
    if (message.caption) bubble.appendChild(caption(message));
  } else if (message.parse_mode === "HTML") {
    renderHtml(bubble, message.text || "");
  } else {
    bubble.textContent = message.text || "";
  }
  row.appendChild(bubble);
  const kb = keyboard(message);
  if (kb) row.appendChild(kb);
  const meta = document.createElement("div");
  meta.className = "meta";
  const time = new Date((message.edit_date || message.date) * 1000);
  meta.textContent = (event.edited ? "redigeret " : "") + time.toLocaleTimeString("da-DK", {hour: "2-digit", minute: "2-digit"});
  row.appendChild(meta);
  const old = bubbles.get(message.message_id);
  if (old) old.replaceWith(row); else chat.appendChild(row);
  bubbles.set(message.message_id, row);
}

async function send(text) {
  if (!text.trim()) return;
  await post("/emulator/send", {user_id: userId, text, first_name: firstName});
}

function readBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result.slice(reader.result.indexOf(",") + 1));
    reader.onerror = () => reject(reader.error || new Error("filen kunne ikke læses"));
    reader.readAsDataURL(file);
  });
}

// A file from the paperclip, sent as a Telegram user sends a document: the bot gets a `document`
// message and fetches the file with getFile.
async function sendFile(file) {
  if (file.size === 0) { toast(`»${file.name}« er tom. Vælg en fil med indhold.`, true); return; }
  if (file.size > MAX_FILE_BYTES) {
    toast(`»${file.name}« er for stor (${fileSize(file.size)}). Botten kan højst modtage filer på 20 MB.`, true);
    return;
  }
  attach.setAttribute("aria-busy", "true");
  attach.classList.add("busy");
  try {
    const content = await readBase64(file);
    await post("/emulator/send-document", {
      user_id: userId, first_name: firstName, filename: file.name,
      mime_type: file.type || MIME_TYPES[extension(file.name)] || null, content_base64: content,
    });
  } catch (error) {
    toast(error.status === 413 ? `»${file.name}« er for stor til at blive sendt.`
      : "Filen blev ikke sendt: " + error.message, true);
  } finally {
    attach.removeAttribute("aria-busy");
    attach.classList.remove("busy");
  }
}

async function press(messageId, data) {
  let pressed;
  try { pressed = await post("/emulator/press", {user_id: userId, message_id: messageId, data}); }
  catch (error) { toast("Knappen virker ikke: " + error.message); return; }
  // Telegram shows the bot's answer to a button press (answerCallbackQuery) as a short toast.
  try {
    const response = await fetch(`/emulator/callback-answer?query_id=${encodeURIComponent(pressed.callback_query_id)}&wait=5`);
    const data = await response.json();
    if (data.answer && data.answer.text) toast(data.answer.text, data.answer.show_alert);
  } catch (error) { /* no answer to show */ }
}

async function vote(pollId, index) {
  try { await post("/emulator/vote", {user_id: userId, poll_id: pollId, option_ids: [index]}); }
  catch (error) { toast("Kunne ikke svare: " + error.message); }
}

async function loop() {
  for (;;) {
    try {
      const response = await fetch(`/emulator/messages?user_id=${userId}&after=${after}&wait=25`);
      const data = await response.json();
      for (const event of data.events) {
        after = Math.max(after, event.seq);
        render(event);
      }
      if (data.events.length) chat.scrollTop = chat.scrollHeight;
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function loadMenu() {
  const data = await (await fetch("/emulator/commands")).json();
  if (data.bot && data.bot.first_name) document.getElementById("bot-name").textContent = data.bot.first_name;
  menu.replaceChildren();
  for (const command of data.commands) {
    const el = document.createElement("button");
    el.type = "button";
    const c = document.createElement("span"); c.className = "cmd"; c.textContent = "/" + command.command;
    const d = document.createElement("span"); d.className = "desc"; d.textContent = command.description;
    el.append(c, d);
    el.addEventListener("click", () => { menu.hidden = true; send("/" + command.command); });
    menu.appendChild(el);
  }
}

document.getElementById("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value;
  input.value = "";
  send(text).catch((error) => toast("Ikke sendt: " + error.message));
});
attach.addEventListener("click", () => {
  if (attach.getAttribute("aria-busy") !== "true") fileInput.click();
});
fileInput.addEventListener("change", () => {
  const file = fileInput.files[0];
  fileInput.value = "";  // the same file can be chosen again, as after a "Tjek igen"
  if (file) sendFile(file);
});
document.getElementById("menu-button").addEventListener("click", async () => {
  if (menu.hidden) await loadMenu();
  menu.hidden = !menu.hidden;
});

loop();
loadMenu().catch(() => {});
