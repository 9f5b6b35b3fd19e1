// Progressive enhancement only: every page works without this file.
import { initAll } from "./nhsuk-frontend.min.js";
import { initReportProgress } from "./report-progress.mjs";

initAll();
initReportProgress();
