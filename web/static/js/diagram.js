/*
 * ThinkFamily process diagrams: render BPMN with the bpmn-js navigated viewer and show which
 * stages are completed, which are active, and how many cases sit at each stage.
 *
 * Markup (see templates/macros/diagram.html):
 *   <div class="tf-diagram" data-bpmn-url="..." data-status-url="...">
 *     <div class="tf-diagram__canvas">...</div>
 *     <p class="govuk-error-message tf-diagram__error" hidden></p>
 *   </div>
 * Status JSON: {"completed": [ids], "active": [ids], "counts": {id: n}}
 *
 * Needs the global BpmnJS (bpmn-navigated-viewer.production.min.js) loaded first. Plain script,
 * no inline code and no style attributes, so the strict Content-Security-Policy holds.
 */
(function () {
  "use strict";

  var LOAD_FAILED =
    "The process diagram could not be shown. The stages are listed in text on this page.";
  var IMPORT_WARNINGS =
    "The process diagram has parts that could not be read, so it may be incomplete and stage " +
    "status is not shown on it. The stages are listed in text on this page.";

  // SpiffWorkflow multi-instance activities name the task-data variable they loop over
  // (loopDataInputRef / loopDataOutputRef) rather than a diagram element, which bpmn-js
  // reports as an unresolved reference. Nothing drawn depends on it, so it is not an error
  // for the viewers (the modeler still refuses any warning before saving).
  function isDataReference(warning) {
    var message = String((warning && warning.message) || "");
    var property = String((warning && warning.property) || "");
    return /unresolved reference/.test(message) &&
      /loopData(Input|Output)Ref|inputDataItem|outputDataItem/.test(property + " " + message);
  }

  function sameOriginUrl(url) {
    var target = new URL(url, window.location.href);
    if (target.origin !== window.location.origin) {
      throw new Error("Diagram URLs must be on this site");
    }
    return target.href;
  }

  function fetchSameOrigin(url, accept) {
    return fetch(sameOriginUrl(url), {
      mode: "same-origin",
      credentials: "same-origin",
      headers: { Accept: accept }
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("Request failed with status " + response.status);
      }
      return response;
    });
  }

  function showError(container, text) {
    var message = container.querySelector(".tf-diagram__error");
    if (!message) {
      message = document.createElement("p");
      message.className = "govuk-error-message tf-diagram__error";
      container.appendChild(message);
    }
    message.textContent = text;
    message.hidden = false;
  }

  // Diagrams name each lane by the role that works it ("csc_manager"); people read the role's
  // title ("Children's social care team manager"). Relabel the lanes before drawing.
  function laneTitles(container) {
    try {
      var titles = JSON.parse(container.getAttribute("data-lane-titles") || "{}");
      return titles && typeof titles === "object" ? titles : {};
    } catch (error) {
      return {};
    }
  }

  function relabelLanes(xml, titles) {
    var doc = new DOMParser().parseFromString(xml, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) {
      return xml; // the viewer reports what it cannot read
    }
    var lanes = doc.getElementsByTagNameNS("http://www.omg.org/spec/BPMN/20100524/MODEL", "lane");
    var changed = false;
    Array.prototype.forEach.call(lanes, function (lane) {
      var name = lane.getAttribute("name");
      if (name && Object.prototype.hasOwnProperty.call(titles, name)) {
        lane.setAttribute("name", String(titles[name]));
        changed = true;
      }
    });
    return changed ? new XMLSerializer().serializeToString(doc) : xml;
  }

  function heatClass(count, max) {
    var ratio = max > 0 ? count / max : 0;
    if (ratio > 2 / 3) {
      return "govuk-tag--red";
    }
    if (ratio > 1 / 3) {
      return "govuk-tag--orange";
    }
    return "govuk-tag--yellow";
  }

  function applyStatus(viewer, status) {
    var registry = viewer.get("elementRegistry");
    var canvas = viewer.get("canvas");
    var overlays = viewer.get("overlays");

    function known(id) {
      return typeof id === "string" && Boolean(registry.get(id));
    }

    function ids(value) {
      return Array.isArray(value) ? value.filter(known) : [];
    }

    ids(status.completed).forEach(function (id) {
      canvas.addMarker(id, "stage-completed");
    });
    ids(status.active).forEach(function (id) {
      canvas.addMarker(id, "stage-active");
    });

    var counts = status.counts && typeof status.counts === "object" ? status.counts : {};
    var entries = Object.keys(counts)
      .filter(known)
      .map(function (id) {
        return [id, Number(counts[id])];
      })
      .filter(function (entry) {
        return Number.isFinite(entry[1]) && entry[1] > 0;
      });
    var max = entries.reduce(function (top, entry) {
      return Math.max(top, entry[1]);
    }, 0);
    entries.forEach(function (entry) {
      var badge = document.createElement("strong");
      badge.className = "govuk-tag tf-count " + heatClass(entry[1], max);
      badge.textContent = String(entry[1]);
      overlays.add(entry[0], "tf-count", { position: { top: -12, right: 12 }, html: badge });
    });
  }

  function render(container) {
    if (container.getAttribute("data-tf-diagram-state")) {
      return Promise.resolve();
    }
    container.setAttribute("data-tf-diagram-state", "loading");
    var canvasElement = container.querySelector(".tf-diagram__canvas") || container;
    var bpmnUrl = container.getAttribute("data-bpmn-url");
    var statusUrl = container.getAttribute("data-status-url");

    if (typeof window.BpmnJS !== "function" || !bpmnUrl) {
      showError(container, LOAD_FAILED);
      container.setAttribute("data-tf-diagram-state", "failed");
      return Promise.resolve();
    }

    var viewer;
    return fetchSameOrigin(bpmnUrl, "application/xml, text/xml")
      .then(function (response) {
        return response.text();
      })
      .then(function (xml) {
        canvasElement.textContent = "";
        viewer = new window.BpmnJS({ container: canvasElement });
        return viewer.importXML(relabelLanes(xml, laneTitles(container)));
      })
      .then(function (result) {
        viewer.get("canvas").zoom("fit-viewport", "auto");
        var serious = ((result && result.warnings) || []).filter(function (warning) {
          return !isDataReference(warning);
        });
        if (serious.length) {
          showError(container, IMPORT_WARNINGS);
          container.setAttribute("data-tf-diagram-state", "warnings");
          return null;
        }
        if (!statusUrl) {
          return null;
        }
        return fetchSameOrigin(statusUrl, "application/json").then(function (response) {
          return response.json();
        });
      })
      .then(function (status) {
        if (status) {
          applyStatus(viewer, status);
        }
        if (container.getAttribute("data-tf-diagram-state") === "loading") {
          container.setAttribute("data-tf-diagram-state", "ready");
        }
      })
      .catch(function () {
        showError(container, LOAD_FAILED);
        container.setAttribute("data-tf-diagram-state", "failed");
      });
  }

  function renderAll() {
    var containers = document.querySelectorAll(".tf-diagram[data-bpmn-url]");
    return Promise.all(Array.prototype.map.call(containers, render));
  }

  window.ThinkFamilyDiagram = { render: render, renderAll: renderAll, applyStatus: applyStatus };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderAll);
  } else {
    renderAll();
  }
})();
