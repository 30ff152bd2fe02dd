// The cross-domain frame of ucwad (UCWA's xframe). A page on another origin
// loads this document in a hidden iframe and sends it requests with
// postMessage, as JSON strings in the jQuery-like shape the UCWA
// documentation gives (type, url, headers, accepts, contentType, data,
// cache, xhrFields, messageId). The frame sends each to its own server,
// naming the page's origin in X-Ms-Origin so that the server can check it
// against its allow-list, and posts the answer back to that page alone as
// a JSON string: status, statusText, responseText, headers (one CRLF-joined
// string) and the request's messageId.
(function () {
  "use strict";

  // Response header names as UCWA clients look them up; any other name is
  // written Word-Word.
  var spellings = {
    "content-type": "Content-Type",
    "etag": "ETag",
    "www-authenticate": "WWW-Authenticate",
    "x-ms-diagnostics": "X-Ms-diagnostics",
    "x-ms-ucwaversion": "X-MS-UcwaVersion"
  };

  function has(object, key) {
    return Object.prototype.hasOwnProperty.call(object, key);
  }

  function headerName(lower) {
    if (has(spellings, lower)) {
      return spellings[lower];
    }
    return lower.replace(/(^|-)([a-z])/g, function (whole, dash, letter) {
      return dash + letter.toUpperCase();
    });
  }

  function responseHeaders(xhr) {
    var lines = xhr.getAllResponseHeaders().split(/\r?\n/);
    var out = [];
    for (var i = 0; i < lines.length; i++) {
      var colon = lines[i].indexOf(":");
      if (colon > 0) {
        out.push(headerName(lines[i].slice(0, colon).trim().toLowerCase()) + ": " + lines[i].slice(colon + 1).trim());
      }
    }
    return out.join("\r\n");
  }

  // parse returns the request a message carries, or null.
  function parse(data) {
    var msg = data;
    if (typeof msg === "string") {
      try {
        msg = JSON.parse(msg);
      } catch (e) {
        return null;
      }
    }
    if (!msg || typeof msg !== "object") {
      return null;
    }
    // The documentation's own example sends JSON.stringify({request}).
    if (msg.request && typeof msg.request === "object" && !has(msg, "url")) {
      msg = msg.request;
    }
    return msg;
  }

  function query(data) {
    var parts = [];
    for (var key in data) {
      if (has(data, key) && data[key] !== undefined && data[key] !== null) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(String(data[key])));
      }
    }
    return parts.join("&");
  }

  function reply(target, origin, messageId, status, statusText, responseText, headers) {
    target.postMessage(JSON.stringify({
      status: status,
      statusText: statusText,
      responseText: responseText,
      headers: headers,
      messageId: messageId
    }), origin);
  }

  function relay(msg, origin, source) {
    var method = String(msg.type || "GET").toUpperCase();
    var url;
    try {
      url = new URL(String(msg.url || ""), location.href);
    } catch (e) {
      url = null;
    }
    // Only this frame's own server: the frame is not a general proxy.
    if (!url || url.origin !== location.origin) {
      reply(source, origin, msg.messageId, 0, "error", "", "");
      return;
    }
    var headers = {};
    var given = msg.headers && typeof msg.headers === "object" ? msg.headers : {};
    for (var name in given) {
      var value = given[name];
      // The page's origin is the browser's to tell, not the page's.
      if (has(given, name) && value !== undefined && value !== null && String(value) !== "" &&
          name.toLowerCase() !== "x-ms-origin") {
        headers[name.toLowerCase()] = { name: name, value: String(value) };
      }
    }
    if (msg.accepts && !has(headers, "accept")) {
      headers.accept = { name: "Accept", value: String(msg.accepts) };
    }
    if (msg.contentType && !has(headers, "content-type")) {
      headers["content-type"] = { name: "Content-Type", value: String(msg.contentType) };
    }
    if (!has(headers, "x-requested-with")) {
      headers["x-requested-with"] = { name: "X-Requested-With", value: "XMLHttpRequest" };
    }
    if (msg.cache === false && !has(headers, "cache-control")) {
      headers["cache-control"] = { name: "Cache-Control", value: "no-cache" };
    }
    var body = msg.data === undefined || msg.data === null ? null : msg.data;
    var bodiless = method === "GET" || method === "HEAD" || method === "DELETE";
    if (body !== null && typeof body === "object") {
      if (bodiless || msg.processData === true) {
        var q = query(body);
        if (q) {
          url.search = url.search ? url.search + "&" + q : "?" + q;
        }
        body = null;
      } else {
        body = JSON.stringify(body);
      }
    }
    var xhr = new XMLHttpRequest();
    xhr.open(method, url.href, true);
    for (var key in headers) {
      if (has(headers, key)) {
        try {
          xhr.setRequestHeader(headers[key].name, headers[key].value);
        } catch (e) {
          // A header the browser keeps for itself (Host, Cookie, …).
        }
      }
    }
    xhr.setRequestHeader("X-Ms-Origin", origin);
    var fields = msg.xhrFields && typeof msg.xhrFields === "object" ? msg.xhrFields : {};
    if (fields.withCredentials === true) {
      xhr.withCredentials = true;
    }
    if (typeof fields.timeout === "number" && fields.timeout > 0) {
      xhr.timeout = fields.timeout;
    }
    xhr.onreadystatechange = function () {
      if (xhr.readyState === 4) {
        reply(source, origin, msg.messageId, xhr.status, xhr.statusText, xhr.responseText, responseHeaders(xhr));
      }
    };
    xhr.send(bodiless ? null : body);
  }

  window.addEventListener("message", function (event) {
    // Requests come from the page that embeds the frame, and only from a
    // page with an origin to answer to.
    if (window.parent === window || event.source !== window.parent || !event.origin || event.origin === "null") {
      return;
    }
    var msg = parse(event.data);
    if (msg) {
      relay(msg, event.origin, event.source);
    }
  }, false);
}());
