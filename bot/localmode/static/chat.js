// The local chat page: talks to the emulator's user API (/emulator/...) as one user per tab.
"use strict";

const chat = document.getElementById("chat");
const input = document.getElementById("input");
const menu = document.getElementById("menu");
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
  if (!response.ok) throw new Error(await response.text());
  return response.json();
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
    const a = document.createElement("a");
    a.href = "/emulator/files/" + encodeURIComponent(message.document.file_id);
    a.textContent = "📄 " + (message.document.file_name || "fil");
    a.download = message.document.file_name || "fil";
    bubble.appendChild(a);
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
document.getElementById("menu-button").addEventListener("click", async () => {
  if (menu.hidden) await loadMenu();
  menu.hidden = !menu.hidden;
});

loop();
loadMenu().catch(() => {});
