// The report job page (core/jinja2/reporting/reports/report_job.html): while the
// report is being built, ask the server how far it has got every two seconds and move
// the progress bar, the percentage and the note in place (they sit in an aria-live
// region, so a screen reader hears each step). Without this file the page offers a
// "check again" link instead.
const POLL_MS = 2000;

function text(root, selector, value) {
  const node = root.querySelector(selector);
  if (node && node.textContent !== value) {
    node.textContent = value;
  }
}

async function poll(root) {
  let status;
  try {
    const response = await fetch(root.dataset.statusUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) {
      return; // signed out or gone: the "check again" link still works
    }
    status = await response.json();
  } catch {
    setTimeout(() => poll(root), POLL_MS * 2);
    return;
  }
  const bar = root.querySelector("progress");
  if (bar && String(bar.value) !== String(status.progress)) {
    bar.value = status.progress;
    bar.textContent = `${status.progress}%`;
  }
  text(root, "[data-report-percent]", `${status.progress}%`);
  text(root, "[data-report-state]", status.state_label);
  text(root, "[data-report-note]", status.state === "failed" ? status.error : status.note);
  if (status.state === "done" && status.download_url) {
    const ready = root.querySelector("[data-report-ready]");
    const link = root.querySelector("[data-report-download]");
    if (link) {
      link.setAttribute("href", status.download_url);
    }
    text(root, "[data-report-filename]", status.filename || "");
    if (ready) {
      ready.hidden = false;
    }
  }
  if (status.state === "done" || status.state === "failed") {
    root.querySelector("[data-report-check-again]")?.remove();
    root.dataset.state = status.state;
    return;
  }
  setTimeout(() => poll(root), POLL_MS);
}

export function initReportProgress(scope = document) {
  for (const root of scope.querySelectorAll("[data-report-job]")) {
    if (root.dataset.state === "queued" || root.dataset.state === "running") {
      const again = root.querySelector("[data-report-check-again]");
      if (again) {
        again.textContent = "This page updates by itself. We will also send you a notification when the report is ready.";
      }
      setTimeout(() => poll(root), POLL_MS);
    }
  }
}
