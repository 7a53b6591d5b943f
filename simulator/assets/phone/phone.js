// The customer's phone: chat with the business through the simulator's control API (/_sim).
// Everything that comes from data is put on the page with textContent, attributes or DOM nodes only,
// never parsed as HTML: customers and agents can type anything. Icons are inline SVG rather than emoji, so
// they show without an emoji font.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
// A clock: the message is accepted but not sent yet.
const CLOCK_ICON = "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 2a8 8 0 1 1 0 16 8 8 0 0 1 0-16zm-1 3v6l5 3 1-1.7-4-2.3V7z";
// A play triangle, for audio the business sent.
const PLAY_ICON = "M8 5v14l11-7z";

const elements = {
  customerList: document.getElementById("customer-list"),
  newCustomer: document.getElementById("new-customer"),
  webhookInfo: document.getElementById("webhook-info"),
  businessAvatar: document.getElementById("business-avatar"),
  businessName: document.getElementById("business-name"),
  businessStatus: document.getElementById("business-status"),
  customers: document.getElementById("customers"),
  phone: document.querySelector(".phone"),
  messages: document.getElementById("messages"),
  error: document.getElementById("error"),
  composer: document.getElementById("composer"),
  text: document.getElementById("text"),
  sendImage: document.getElementById("send-image"),
  sendLocation: document.getElementById("send-location"),
};

let business = { name: "Business" };
// `/#15550002222` opens that customer's phone directly (handy for links and screenshots).
let current = decodeURIComponent(location.hash.slice(1)) || localStorage.getItem("baton-simulator-customer");
let lastChat = "";
let openList = null; // the wamid of the list message whose rows are shown
let stickToBottom = true; // the chat was scrolled to the end at the last render

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function icon(path) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const shape = document.createElementNS(SVG_NS, "path");
  shape.setAttribute("d", path);
  svg.append(shape);
  return svg;
}

function showError(message) {
  elements.error.textContent = message;
  elements.error.hidden = !message;
}

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch("/_sim" + path, options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error((data && data.error) || response.statusText);
  return data;
}

async function loadState() {
  const state = await api("GET", "/state");
  business = state.business;
  elements.businessName.textContent = business.name;
  elements.businessAvatar.textContent = business.name.trim().charAt(0).toUpperCase();
  elements.webhookInfo.textContent = state.webhook_url
    ? "Webhooks go to " + state.webhook_url
    : "No webhook URL set: PUT /_sim/settings {\"webhook_url\": …}";
}

async function refreshCustomers() {
  const customers = await api("GET", "/customers");
  elements.customerList.replaceChildren(
    ...customers.map((customer) => {
      const button = element("button", customer.wa_id === current ? "current" : "");
      button.type = "button";
      button.append(
        element("span", "name", customer.name),
        element("span", "number", "+" + customer.wa_id),
        element("span", "window", customer.window_open ? "24 h window open" : "window closed"),
      );
      button.addEventListener("click", () => select(customer.wa_id));
      const item = element("li");
      item.append(button);
      return item;
    }),
  );
  if (current && !customers.some((customer) => customer.wa_id === current)) select(null);
}

function select(waId) {
  current = waId;
  openList = null;
  lastChat = "";
  if (waId) localStorage.setItem("baton-simulator-customer", waId);
  else localStorage.removeItem("baton-simulator-customer");
  setComposerEnabled(Boolean(waId));
  // On a narrow screen the list sits below the phone: bring the chat back into view.
  if (waId) elements.phone.scrollIntoView({ block: "nearest" });
  refreshCustomers().catch((error) => showError(error.message));
  poll();
}

function setComposerEnabled(enabled) {
  for (const control of elements.composer.elements) control.disabled = !enabled;
}

async function send(message) {
  if (!current) return;
  try {
    const receipt = await api("POST", "/customers/" + encodeURIComponent(current) + "/messages", message);
    const delivery = receipt.delivery;
    showError(delivery.status === 200 ? "" : "Baton answered the webhook with " + (delivery.status || delivery.error) + "; it will be re-sent.");
    await poll();
  } catch (error) {
    showError(error.message);
  }
}

function ticks(entry) {
  const status = entry.status;
  if (entry.from_customer) {
    // The customer's own messages: grey until Baton marks them read.
    return element("span", "ticks" + (status === "read" ? " read" : ""), "✓✓");
  }
  const marks = { sent: "✓", delivered: "✓✓", read: "✓✓", played: "✓✓", failed: "!" };
  const label = element("span", "ticks" + (status === "read" || status === "played" ? " read" : status === "failed" ? " failed" : ""), marks[status]);
  if (!marks[status]) label.append(icon(CLOCK_ICON));
  label.title = status || "accepted";
  return label;
}

function time(unixSeconds) {
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function choiceButton(entry, choice) {
  const button = element("button", "", choice.title);
  button.type = "button";
  if (choice.description) button.append(element("span", "description", choice.description));
  button.addEventListener("click", () => {
    openList = null;
    if (choice.reply === "button_reply") send({ type: "button_reply", context: entry.message_id, id: choice.id, title: choice.title });
    else if (choice.reply === "list_reply") send({ type: "list_reply", context: entry.message_id, id: choice.id, title: choice.title, description: choice.description });
    else send({ type: "template_button", context: entry.message_id, payload: choice.id, text: choice.title });
  });
  return button;
}

// Listening to audio the business sent: Meta reports it with a `played` status (once is enough).
function playButton(entry) {
  const played = entry.status === "played";
  const button = element("button", "play", played ? "Played" : "Play");
  button.type = "button";
  button.prepend(icon(PLAY_ICON));
  button.disabled = played;
  button.addEventListener("click", async () => {
    try {
      await api("POST", "/statuses", { message_id: entry.message_id, statuses: ["played"] });
      await poll();
    } catch (error) {
      showError(error.message);
    }
  });
  return button;
}

function renderEntry(entry, byId) {
  const bubble = element("div", "bubble " + (entry.from_customer ? "customer" : "business"));
  if (entry.status === "failed" && !entry.from_customer) bubble.classList.add("failed");
  if (entry.reply_to) {
    const quoted = byId.get(entry.reply_to);
    bubble.append(element("div", "quote", quoted ? quoted.text || "[" + quoted.kind + "]" : "↩ reply"));
  }
  const picture = entry.media_id && (entry.kind === "image" || entry.kind === "sticker");
  if (picture) {
    const image = element("img");
    image.alt = entry.kind;
    image.src = "/_sim/media/" + encodeURIComponent(entry.media_id);
    // A picture grows the chat once loaded: stay at the end if the reader was there.
    image.addEventListener("load", () => {
      if (stickToBottom) elements.messages.scrollTop = elements.messages.scrollHeight;
    });
    bubble.append(image);
  }
  // A picture without a caption needs no "[image]" label under it.
  if (entry.text || !picture) bubble.append(element("div", "text", entry.text || "[" + entry.kind + "]"));
  if (entry.kind === "audio" && !entry.from_customer && entry.status !== "failed") bubble.append(playButton(entry));
  if (entry.error) bubble.append(element("div", "error-text", entry.error));
  if (entry.choices.length) {
    const choices = element("div", "choices");
    if (entry.list_button && openList !== entry.message_id) {
      const opener = element("button", "", entry.list_button);
      opener.type = "button";
      opener.addEventListener("click", () => {
        openList = entry.message_id;
        lastChat = "";
        poll();
      });
      choices.append(opener);
    } else {
      choices.append(...entry.choices.map((choice) => choiceButton(entry, choice)));
    }
    bubble.append(choices);
  }
  const meta = element("div", "meta");
  meta.append(element("span", "", time(entry.unix_seconds)), ticks(entry));
  bubble.append(meta);
  if (entry.reaction) {
    bubble.classList.add("has-reaction");
    bubble.append(element("span", "reaction", entry.reaction));
  }
  return bubble;
}

function render(chat) {
  elements.businessStatus.textContent = chat.typing ? "typing…" : "chatting as " + chat.customer.name;
  const byId = new Map(chat.entries.map((entry) => [entry.message_id, entry]));
  const atBottom = elements.messages.scrollHeight - elements.messages.scrollTop - elements.messages.clientHeight < 40;
  if (!chat.entries.length) {
    elements.messages.replaceChildren(element("p", "empty", "No messages yet. Say hello to " + business.name + "!"));
  } else {
    elements.messages.replaceChildren(...chat.entries.map((entry) => renderEntry(entry, byId)));
  }
  stickToBottom = atBottom;
  if (atBottom) elements.messages.scrollTop = elements.messages.scrollHeight;
}

async function poll() {
  if (!current) {
    elements.businessStatus.textContent = "pick a customer";
    const empty = element("p", "empty", "Pick or add a customer to start chatting. ");
    const pick = element("button", "link-button", "Choose a customer");
    pick.type = "button";
    // On a narrow screen the list is below the phone, out of sight.
    pick.addEventListener("click", () => elements.customers.scrollIntoView({ block: "start" }));
    empty.append(pick);
    elements.messages.replaceChildren(empty);
    return;
  }
  try {
    const chat = await api("GET", "/customers/" + encodeURIComponent(current) + "/chat");
    const snapshot = JSON.stringify(chat);
    if (snapshot !== lastChat) {
      lastChat = snapshot;
      render(chat);
    }
  } catch (error) {
    showError(error.message);
  }
}

elements.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const body = elements.text.value.trim();
  if (!body) return;
  elements.text.value = "";
  send({ type: "text", body });
});

elements.sendImage.addEventListener("click", () => {
  const caption = elements.text.value.trim();
  elements.text.value = "";
  send({ type: "image", caption: caption || null });
});

elements.sendLocation.addEventListener("click", () => {
  send({ type: "location", latitude: 52.520008, longitude: 13.404954, name: "Alexanderplatz", address: "10178 Berlin" });
});

elements.newCustomer.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(elements.newCustomer);
  try {
    const customer = await api("POST", "/customers", { wa_id: String(form.get("wa_id")).trim(), name: String(form.get("name")).trim() });
    elements.newCustomer.reset();
    showError("");
    select(customer.wa_id);
  } catch (error) {
    showError(error.message);
  }
});

async function start() {
  setComposerEnabled(Boolean(current));
  try {
    await loadState();
    await refreshCustomers();
  } catch (error) {
    showError(error.message);
  }
  await poll();
  // Polling once a second is the simplest thing that survives restarts of either side.
  setInterval(poll, 1000);
  setInterval(() => refreshCustomers().catch(() => {}), 5000);
}

start();
