// The join page's client: a UCWA 2.0 client of the server the page came
// from. It walks the documented chain (root, the MsRtcOAuth challenge, a
// token, user, applications), keeps a pending GET on the event channel, and
// joins the meeting with joinOnlineMeeting; everything it shows comes from
// the resources and events its application receives. Text from others is
// only ever put into the page as text (textContent) or as elements built
// one by one from an allow-list; never as markup.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const meetingUri = document.body.dataset.meeting;
  const meetingId = document.body.dataset.meetingId;
  const ANON_GRANT = "urn:microsoft.rtc:anonmeeting";

  // Everything this page's application knows, in one place.
  const st = {
    auth: "", // "Bearer <token>"
    base: location.origin, // where the API's relative hrefs lead
    app: null, // the application resource
    convHref: "",
    conv: null, // the conversation as last embedded
    self: null, // the localParticipant as last embedded
    messaging: null, // the messaging resource as last embedded
    running: false,
    abort: null,
    ended: false,
    typing: new Map(), // participant href -> name
    messages: new Map(), // message href -> list item
    failedMessages: new Set(),
    rosterBusy: false,
    rosterAgain: false,
    lastTyping: 0,
    messagingStarted: false,
    messagingAdded: false,
    renewTimer: 0,
    selfHref: "", // this page's participant in the roster
    leaving: false,
  };

  // ---- small helpers ----

  function randomId() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function abs(href) {
    return new URL(href, st.base).toString();
  }

  function show(id) {
    for (const s of ["start", "waiting", "meeting", "ended"]) $(s).hidden = s !== id;
    const h = $(id).querySelector("h1");
    if (h) h.focus();
  }

  function setText(el, text) {
    el.textContent = text;
  }

  // A UCWA request: JSON in and out, with the token once there is one.
  async function call(method, href, opts = {}) {
    const headers = { Accept: "application/json" };
    if (st.auth && opts.auth !== false) headers.Authorization = st.auth;
    let body;
    if (opts.text !== undefined) {
      headers["Content-Type"] = "text/plain; charset=UTF-8";
      body = opts.text;
    } else if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    }
    const r = await fetch(abs(href), {
      method, headers, body, cache: "no-store", credentials: "omit", signal: opts.signal, keepalive: opts.keepalive,
    });
    let data = null;
    if ((r.headers.get("Content-Type") || "").includes("json")) {
      try { data = await r.json(); } catch (e) { data = null; }
    }
    return { status: r.status, headers: r.headers, data };
  }

  // The message of a UCWA error body, or a plain one.
  function reasonOf(r, fallback) {
    if (r && r.data && typeof r.data.message === "string" && r.data.message) return r.data.message;
    return fallback + " (HTTP " + (r ? r.status : "?") + ")";
  }

  class Refusal extends Error {}

  function link(res, rel) {
    return res && res._links && res._links[rel] ? res._links[rel].href : "";
  }

  // ---- sign-in chain ----

  async function signIn(grant) {
    let r = await call("GET", "/", { auth: false });
    const userHref = link(r.data, "user");
    if (!userHref) throw new Refusal(reasonOf(r, "The server did not answer discovery."));
    st.base = new URL(userHref, location.href).origin;
    r = await call("GET", userHref, { auth: false });
    const challenge = r.headers.get("WWW-Authenticate") || "";
    const m = /MsRtcOAuth\s+href="([^"]+)"/i.exec(challenge);
    if (r.status !== 401 || !m) throw new Refusal("The server did not offer a way to sign in.");
    const grants = (/grant_type="([^"]*)"/i.exec(challenge) || ["", ""])[1].split(",").map((g) => g.trim());
    if (!grants.includes(grant.grant_type)) {
      throw new Refusal(grant.grant_type === ANON_GRANT
        ? "This server does not let guests join meetings. Sign in with a user name and password instead."
        : "This server does not accept sign-in with a user name and password.");
    }
    const tr = await fetch(abs(m[1]), {
      method: "POST", cache: "no-store", credentials: "omit",
      headers: { "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8", Accept: "application/json" },
      body: new URLSearchParams(grant),
    });
    let tok = {};
    try { tok = await tr.json(); } catch (e) { tok = {}; }
    if (!tr.ok || !tok.access_token) {
      const why = {
        invalid_grant: grant.grant_type === ANON_GRANT
          ? "The server does not recognise this meeting link."
          : "The user name or password is not right.",
        unsupported_grant_type: "This server does not let guests join meetings. Sign in instead.",
      }[tok.error];
      if (tr.status === 429) throw new Refusal("Too many attempts. Wait a moment and try again.");
      throw new Refusal(why || "Signing in failed (HTTP " + tr.status + ").");
    }
    st.auth = (tok.token_type || "Bearer") + " " + tok.access_token;
    if (grant.grant_type === ANON_GRANT) scheduleRenewal(m[1], grant, tok);
    r = await call("GET", userHref);
    const appsHref = link(r.data, "applications");
    if (!appsHref) throw new Refusal(reasonOf(r, "The server did not answer with the applications link."));
    st.base = new URL(appsHref, userHref).origin;
    r = await call("POST", appsHref, {
      json: { UserAgent: "ucwad join page", EndpointId: randomId(), Culture: navigator.language || "en-US" },
    });
    if (r.status !== 201 && r.status !== 200) throw new Refusal(reasonOf(r, "The server did not create an application."));
    st.app = r.data;
  }

  // A guest's token lasts an hour, shorter than many meetings: it is
  // renewed before it ends with ms_rtc_renew, which keeps the guest's
  // identity (and so their place in the meeting). A user's token lasts the
  // working day and is not renewed: the page keeps no password.
  function scheduleRenewal(tokenHref, grant, tok) {
    const seconds = Number(tok.expires_in) || 0;
    if (seconds < 120) return;
    clearTimeout(st.renewTimer);
    st.renewTimer = setTimeout(async () => {
      if (!st.running) return;
      const tr = await fetch(abs(tokenHref), {
        method: "POST", cache: "no-store", credentials: "omit",
        headers: { "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8", Accept: "application/json" },
        body: new URLSearchParams({ ...grant, ms_rtc_renew: tok.access_token }),
      }).catch(() => null);
      const next = tr && tr.ok ? await tr.json().catch(() => null) : null;
      if (!next || !next.access_token) return; // the next request's 401 ends the page
      st.auth = (next.token_type || "Bearer") + " " + next.access_token;
      scheduleRenewal(tokenHref, grant, next);
    }, (seconds - 60) * 1000);
  }

  // ---- joining ----

  async function join(grant, displayName) {
    setText($("start-error"), "");
    setBusy(true);
    try {
      await signIn(grant);
      st.running = true;
      pump();
      const comm = st.app._embedded && st.app._embedded.communication;
      const joinHref = link(comm, "joinOnlineMeeting");
      if (!joinHref) throw new Refusal("This account may not join meetings.");
      const input = { onlineMeetingUri: meetingUri, operationId: randomId() };
      if (displayName) input.anonymousDisplayName = displayName;
      const r = await call("POST", joinHref, { json: input });
      if (r.status !== 201) throw new Refusal(reasonOf(r, "The meeting could not be joined."));
      // The join's events may have moved the page on already.
      if (!$("start").hidden) {
        $("waiting-title").textContent = "Joining…";
        setText($("waiting-text"), "Connecting to the meeting…");
        show("waiting");
      }
    } catch (e) {
      await signOut();
      setText($("start-error"), e instanceof Refusal ? e.message : "The server could not be reached. Try again.");
      setBusy(false);
    }
  }

  function setBusy(busy) {
    for (const id of ["guest-join", "signin-join"]) $(id).disabled = busy;
  }

  // ---- the event channel ----

  async function pump() {
    let href = link(st.app, "events");
    let failures = 0;
    while (st.running && href) {
      st.abort = new AbortController();
      let r;
      try {
        r = await call("GET", href, { signal: st.abort.signal });
      } catch (e) {
        if (!st.running) return;
        if (++failures > 5) return end("The connection to the server was lost.");
        await new Promise((ok) => setTimeout(ok, 1000 * failures));
        continue;
      }
      if (r.status !== 200) {
        if (!st.running) return;
        if (r.status === 409) return; // replaced by a newer request of this application
        if (r.status >= 500 && ++failures <= 5) {
          await new Promise((ok) => setTimeout(ok, 1000 * failures));
          continue;
        }
        return end(reasonOf(r, "The connection to the meeting ended."));
      }
      failures = 0;
      const data = r.data || {};
      const links = data._links || {};
      href = (links.next || links.resync || links.resume || {}).href || "";
      if (!href) return end("The connection to the meeting ended.");
      for (const sender of data.sender || []) {
        for (const e of sender.events || []) {
          try { handle(sender, e); } catch (err) { console.error(err); }
        }
      }
    }
  }

  function embedded(e) {
    return e._embedded ? e._embedded[e.link.rel] : null;
  }

  function handle(sender, e) {
    const rel = e.link.rel;
    const res = embedded(e);
    if (rel === "onlineMeetingInvitation") {
      if (res && link(res, "conversation")) st.convHref = st.convHref || link(res, "conversation");
      if (e.type === "completed" && e.status === "Failure") {
        end((e.reason && e.reason.message) || "You could not join the meeting.");
      }
      return;
    }
    if (rel === "conversation" && sender.rel === "communication") {
      if (st.convHref && e.link.href !== st.convHref) return;
      st.convHref = e.link.href;
      if (e.type === "deleted") return end("You are no longer in the meeting.");
      if (res) conversationChanged(res, e.reason);
      return;
    }
    if (sender.href !== st.convHref && sender.rel === "conversation") return;
    if (rel === "localParticipant") {
      if (e.type === "deleted") return;
      if (res) st.self = res;
      refreshRoster();
      return;
    }
    if (rel === "participant") {
      if (e.in && e.in.rel === "typingParticipants") {
        if (e.link.href === st.selfHref) return; // one's own typing is not news
        if (e.type === "added") st.typing.set(e.link.href, e.link.title || "Someone");
        else st.typing.delete(e.link.href);
        renderTyping();
        return;
      }
      refreshRoster();
      return;
    }
    if (rel === "messaging") {
      if (res) messagingChanged(res);
      return;
    }
    if (rel === "message") {
      messageEvent(e, res);
    }
  }

  function conversationChanged(conv, reason) {
    st.conv = conv;
    switch (conv.state) {
      case "InLobby":
        $("waiting-title").textContent = "Waiting in the lobby";
        setText($("waiting-text"), "A leader of the meeting will let you in. Please wait.");
        if ($("waiting").hidden) show("waiting");
        break;
      case "Conferenced":
        enterMeeting();
        break;
      case "Disconnected":
        end((reason && reason.message) || "You are no longer in the meeting.");
        break;
    }
  }

  function enterMeeting() {
    const conv = st.conv;
    $("meeting-title").textContent = conv.subject || "Meeting";
    document.title = (conv.subject || "Meeting") + " – meeting";
    $("lobby-section").hidden = !link(conv, "lobby");
    if ($("meeting").hidden) show("meeting");
    refreshRoster();
    startMessaging();
  }

  // ---- roster and lobby ----

  // The roster is read again whenever a participant event says it changed
  // (they embed nothing): at most one read at a time, and one more if
  // something changed meanwhile.
  async function refreshRoster() {
    if (!st.conv || st.conv.state !== "Conferenced") return;
    if (st.rosterBusy) { st.rosterAgain = true; return; }
    st.rosterBusy = true;
    try {
      do {
        st.rosterAgain = false;
        const r = await call("GET", st.convHref);
        if (r.status !== 200) break;
        st.conv = r.data;
        $("lobby-section").hidden = !link(st.conv, "lobby");
        startMessaging();
        const href = link(st.conv, "participants");
        if (!href) break;
        const p = await call("GET", href);
        if (p.status !== 200) break;
        renderRoster(((p.data._embedded || {}).participant) || []);
      } while (st.rosterAgain && st.running);
    } catch (e) {
      console.error(e);
    } finally {
      st.rosterBusy = false;
    }
  }

  function renderRoster(people) {
    const inside = [];
    const waiting = [];
    for (const p of people) {
      (p.inLobby ? waiting : inside).push(p);
      if (p.local) st.selfHref = link(p, "self");
    }
    syncList($("roster"), inside, false);
    syncList($("lobby"), waiting, true);
    $("lobby-empty").hidden = waiting.length > 0;
  }

  // syncList keeps the list's items for the people who are still there, so
  // that a button someone is about to press (or has focus on) is not
  // replaced under them when the roster is read again.
  function syncList(ul, people, waiting) {
    const old = new Map([...ul.children].map((li) => [li.dataset.key, li]));
    const items = people.map((p) => {
      const key = JSON.stringify([link(p, "self"), p.name, p.role, p.organizer, p.anonymous, p.local, link(p, "admit"), link(p, "reject")]);
      const li = old.get(key) || personItem(p, waiting);
      li.dataset.key = key;
      return li;
    });
    const same = items.length === ul.children.length && items.every((li, i) => ul.children[i] === li);
    if (!same) ul.replaceChildren(...items);
  }

  function personItem(p, waiting) {
    const li = document.createElement("li");
    li.dataset.name = p.name || "";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = (p.name || p.uri || "Someone") + (p.local ? " (you)" : "");
    li.append(name);
    const role = document.createElement("span");
    role.className = "role";
    const what = [];
    if (!waiting) what.push(p.role === "Leader" ? "Leader" : "Attendee");
    if (p.organizer) what.push("organizer");
    if (p.anonymous) what.push("guest");
    role.textContent = what.join(", ");
    li.dataset.role = p.role || "";
    li.append(role);
    if (waiting) {
      for (const [rel, label] of [["admit", "Admit"], ["reject", "Reject"]]) {
        const href = link(p, rel);
        if (!href) continue;
        const b = document.createElement("button");
        b.type = "button";
        b.className = rel === "admit" ? "" : "secondary";
        b.textContent = label;
        b.dataset.action = rel;
        b.setAttribute("aria-label", label + " " + (p.name || "this person"));
        b.addEventListener("click", () => act(b, href, label, p.name));
        li.append(b);
      }
    }
    return li;
  }

  async function act(button, href, label, name) {
    button.disabled = true;
    const r = await call("POST", href, { json: {} }).catch(() => null);
    if (!r || r.status !== 204) {
      button.disabled = false;
      setText($("meeting-status"), label + " " + (name || "") + ": " + reasonOf(r, "it did not work"));
      return;
    }
    setText($("meeting-status"), (label === "Admit" ? "Admitted " : "Rejected ") + (name || "someone") + ".");
    refreshRoster();
  }

  // ---- instant messages ----

  // Messaging is a modality of the conversation: read it, and add it when
  // it is Disconnected (messagingChanged), as Microsoft's sample does.
  async function startMessaging() {
    if (st.messagingStarted) return;
    const href = link(st.conv, "messaging");
    if (!href) {
      setText($("typing"), "Instant messages are not available in this meeting.");
      return;
    }
    st.messagingStarted = true;
    const r = await call("GET", href).catch(() => null);
    if (r && r.status === 200) messagingChanged(r.data);
    else setText($("typing"), reasonOf(r, "Instant messages could not be started."));
  }

  async function messagingChanged(m) {
    st.messaging = m;
    const connected = m.state === "Connected" && !!link(m, "sendMessage");
    $("message-text").disabled = !connected;
    $("send").disabled = !connected;
    if (connected) {
      if ($("typing").textContent.startsWith("Instant messages")) setText($("typing"), "");
      return;
    }
    // Added once: an event that still says Disconnected may arrive after
    // the add (the server answers 409 then, which changes nothing).
    const add = link(m, "addMessaging");
    if (m.state === "Disconnected" && add && !st.messagingAdded) {
      st.messagingAdded = true;
      const r = await call("POST", add, { json: { operationId: randomId() } }).catch(() => null);
      if (!r || (r.status !== 201 && r.status !== 204 && r.status !== 409)) {
        setText($("typing"), reasonOf(r, "Instant messages could not be started."));
      }
    }
  }

  function messageEvent(e, msg) {
    if (e.type !== "completed" && e.type !== "added") return;
    const href = e.link.href;
    if (!msg || msg.direction === "Outgoing") {
      // Our own message: shown when we sent it; a failure is marked.
      if (e.status === "Failure") {
        st.failedMessages.add(href);
        const li = st.messages.get(href);
        if (li) markFailed(li, e.reason);
      }
      return;
    }
    if (st.messages.has(href)) return;
    const from = (msg._links && msg._links.participant && msg._links.participant.title) || e.link.title || "Someone";
    const li = messageItem(from, parseDate(msg.timeStamp), false);
    const text = li.querySelector(".text");
    const html = link(msg, "htmlMessage");
    const plain = link(msg, "plainMessage");
    if (html) {
      const fragment = sanitized(dataText(html));
      if (fragment) text.append(fragment);
      else text.textContent = dataText(plain) || "";
    } else {
      text.textContent = dataText(plain) || "";
    }
    st.messages.set(href, li);
    appendMessage(li);
  }

  function messageItem(from, when, outgoing) {
    const li = document.createElement("li");
    li.className = outgoing ? "outgoing" : "incoming";
    const who = document.createElement("span");
    who.className = "from";
    who.textContent = outgoing ? "You" : from;
    li.append(who);
    if (when) {
      const t = document.createElement("time");
      t.dateTime = when.toISOString();
      t.textContent = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      li.append(t);
    }
    // A div: an HTML message may hold paragraphs and lists.
    const text = document.createElement("div");
    text.className = "text";
    li.append(text);
    return li;
  }

  function appendMessage(li) {
    const list = $("messages");
    list.append(li);
    list.scrollTop = list.scrollHeight;
  }

  function markFailed(li, reason) {
    li.classList.add("failed");
    const note = document.createElement("p");
    note.className = "error";
    note.textContent = "Not delivered" + (reason && reason.message ? ": " + reason.message : ".");
    li.append(note);
  }

  async function send() {
    const box = $("message-text");
    const text = box.value;
    const href = link(st.messaging, "sendMessage");
    if (!text.trim() || !href) return;
    $("send").disabled = true;
    try {
      const u = new URL(href, st.base);
      u.searchParams.set("operationId", randomId());
      const r = await call("POST", u.toString(), { text });
      if (r.status !== 201) {
        setText($("meeting-status"), "Message not sent: " + reasonOf(r, "the server refused it"));
        return;
      }
      box.value = "";
      st.lastTyping = 0;
      const li = messageItem("", new Date(), true);
      li.querySelector(".text").textContent = text;
      const where = r.headers.get("Location") || "";
      if (where) {
        const key = new URL(where, st.base).pathname;
        st.messages.set(key, li);
        if (st.failedMessages.has(key)) markFailed(li, null);
      }
      appendMessage(li);
    } catch (e) {
      setText($("meeting-status"), "Message not sent: the server could not be reached.");
    } finally {
      $("send").disabled = !link(st.messaging, "sendMessage");
      box.focus();
    }
  }

  function typed() {
    const href = link(st.messaging, "setIsTyping");
    const now = Date.now();
    if (!href || !$("message-text").value || now - st.lastTyping < 3000) return;
    st.lastTyping = now;
    call("POST", href, { json: {} }).catch(() => {});
  }

  function renderTyping() {
    const names = [...st.typing.values()];
    let text = "";
    if (names.length === 1) text = names[0] + " is typing…";
    else if (names.length > 1) text = names.join(", ") + " are typing…";
    setText($("typing"), text);
  }

  // The text of a data: URI (RFC 2397): percent-encoded, or base64.
  function dataText(uri) {
    if (!uri || !uri.startsWith("data:")) return "";
    const comma = uri.indexOf(",");
    if (comma < 0) return "";
    const meta = uri.slice(5, comma);
    const payload = uri.slice(comma + 1);
    try {
      if (/;base64$/i.test(meta)) {
        const bin = atob(payload);
        return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
      }
      return decodeURIComponent(payload);
    } catch (e) {
      return payload;
    }
  }

  // sanitized parses HTML in an inert document (nothing in it runs or
  // loads) and builds a fragment of the allowed elements only, copying
  // text as text: every other element gives its text, script and style
  // nothing, and no attribute survives but a link's http(s) or mailto href.
  const ALLOWED = new Set(["B", "STRONG", "I", "EM", "U", "S", "BR", "P", "DIV", "SPAN", "UL", "OL", "LI", "CODE", "PRE", "BLOCKQUOTE", "A"]);
  const DROPPED = new Set(["SCRIPT", "STYLE", "TEMPLATE", "IFRAME", "OBJECT", "EMBED", "NOSCRIPT", "TITLE", "HEAD"]);
  function sanitized(html) {
    if (!html) return null;
    const doc = new DOMParser().parseFromString(html, "text/html");
    const out = document.createDocumentFragment();
    copy(doc.body, out);
    return out;
  }
  function copy(from, to) {
    for (const n of from.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) {
        to.append(document.createTextNode(n.data));
      } else if (n.nodeType === Node.ELEMENT_NODE) {
        if (DROPPED.has(n.tagName)) continue;
        if (!ALLOWED.has(n.tagName)) { copy(n, to); continue; }
        const el = document.createElement(n.tagName.toLowerCase());
        if (n.tagName === "A") {
          const href = n.getAttribute("href") || "";
          try {
            const u = new URL(href, "https://invalid.example/");
            if (["http:", "https:", "mailto:"].includes(u.protocol) && /^(https?:|mailto:)/i.test(href.trim())) {
              el.href = u.toString();
              el.rel = "noopener noreferrer";
              el.target = "_blank";
            }
          } catch (e) { /* no link */ }
        }
        copy(n, el);
        to.append(el);
      }
    }
  }

  function parseDate(v) {
    const m = /Date\((-?\d+)/.exec(v || "");
    if (m) return new Date(Number(m[1]));
    const d = v ? new Date(v) : null;
    return d && !isNaN(d) ? d : null;
  }

  // ---- leaving ----

  async function leave() {
    $("leave").disabled = true;
    $("waiting-leave").disabled = true;
    st.leaving = true;
    if (st.convHref) await call("DELETE", st.convHref).catch(() => null);
    end("You left the meeting.");
  }

  async function signOut(keepalive) {
    st.running = false;
    clearTimeout(st.renewTimer);
    if (st.abort) st.abort.abort();
    const app = link(st.app, "self");
    if (app && st.auth) {
      const auth = st.auth;
      st.app = null;
      await call("DELETE", app, { keepalive: !!keepalive }).catch(() => null);
      if (st.auth === auth) st.auth = "";
    }
  }

  function end(text) {
    if (!$("ended").hidden) return;
    st.ended = true;
    signOut();
    setText($("ended-text"), st.leaving ? "You left the meeting." : text || "You are no longer in the meeting.");
    show("ended");
  }

  // ---- wiring ----

  $("guest-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("guest-name").value.trim();
    if (!name) {
      setText($("start-error"), "Enter your name to join as a guest.");
      $("guest-name").focus();
      return;
    }
    join({ grant_type: ANON_GRANT, password: meetingId, ms_rtc_conferenceuri: meetingUri }, name);
  });
  $("signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const user = $("signin-user").value.trim();
    const password = $("signin-password").value;
    if (!user || !password) {
      setText($("start-error"), "Enter your user name and password to sign in.");
      (user ? $("signin-password") : $("signin-user")).focus();
      return;
    }
    $("signin-password").value = "";
    join({ grant_type: "password", username: user, password }, "");
  });
  $("message-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    send();
  });
  $("message-text").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      send();
    }
  });
  $("message-text").addEventListener("input", typed);
  $("leave").addEventListener("click", leave);
  $("waiting-leave").addEventListener("click", leave);
  // Closing the tab leaves too: the application goes, and with it its
  // place in the meeting.
  window.addEventListener("pagehide", () => { if (st.running) signOut(true); });
  $("guest-name").focus();
})();
