// The dashboard's stylesheet and its one script, served from /ui/assets/ (no inline script, so
// the pages' Content-Security-Policy can forbid every script but these).

/** The pages' stylesheet: /ui/assets/dashboard.css. */
export const dashboardCss = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6677; --bg: #fff; --panel: #f5f6f8; --line: #dde1e7;
  --ok: #1f7a3d; --bad: #b3261e; --run: #1f5fbf; --wait: #8a6d00; --off: #6b7280; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8ec; --muted: #9aa3b2; --bg: #14171c; --panel: #1c2027; --line: #2c323c;
  --ok: #4cc479; --bad: #ff7b72; --run: #6ea8fe; --wait: #e3b341; --off: #9aa3b2; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { font-size: 1.05rem; margin: 0; }
header nav { display: flex; gap: 1rem; flex: 1; }
header form { margin: 0; }
main { padding: 1rem 1.2rem 3rem; max-width: 1800px; }
a { color: var(--run); }
h2 { font-size: 1rem; margin: 1.4rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
pre { background: var(--panel); padding: .6rem; overflow-x: auto; margin: .3rem 0; }
.muted { color: var(--muted); }
.status { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .8rem; font-weight: 600; border: 1px solid currentColor; }
.s-succeeded { color: var(--ok); } .s-failed { color: var(--bad); } .s-running, .s-dispatched { color: var(--run); }
.s-queued, .s-pending { color: var(--wait); } .s-cancelled { color: var(--off); }
.filters { display: flex; flex-wrap: wrap; gap: .4rem; margin: .4rem 0 .8rem; }
.filters a { padding: .15rem .6rem; border: 1px solid var(--line); border-radius: 1rem; text-decoration: none; color: var(--fg); }
.filters a[aria-current="page"] { background: var(--fg); color: var(--bg); }
.error { border-left: 4px solid var(--bad); background: var(--panel); padding: .5rem .8rem; margin: .6rem 0; }
.error .reason { color: var(--bad); }
.grid { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0 1.5rem; }
@media (min-width: 1500px) { .grid { grid-template-columns: minmax(0, 1fr) auto; } }
.nowrap, #workers td { white-space: nowrap; }
.scroll { overflow-x: auto; }
#workers-table { width: auto; min-width: 32rem; }
.reason { overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .4rem 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
.downloads a { margin-right: .8rem; }
.timeline { border: 1px solid var(--line); padding: .4rem .6rem; margin: .4rem 0 1rem; }
.lane { display: grid; grid-template-columns: 14rem 1fr; align-items: center; gap: .6rem; min-height: 1.6rem; }
.track { position: relative; height: 1.1rem; background: var(--panel); }
.bar { position: absolute; top: 0; bottom: 0; min-width: 3px; font-size: .7rem; line-height: 1.1rem; color: #fff; overflow: hidden; padding-left: 2px; white-space: nowrap; }
.bar.b-succeeded { background: var(--ok); } .bar.b-failed { background: var(--bad); } .bar.b-dispatched { background: var(--run); }
.step { border: 1px solid var(--line); padding: .5rem .8rem; margin: .6rem 0; }
.step h3 { font-size: .95rem; margin: 0 0 .3rem; display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; }
.step table { margin-top: .3rem; }
form.new-run { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .4rem .8rem; align-items: start; max-width: 44rem; }
form.new-run textarea { width: 100%; min-height: 4.5rem; }
form.new-run input[type=text] { width: 100%; }
details { margin: .6rem 0; }
details > summary { cursor: pointer; font-weight: 600; }
.live-state { font-size: .8rem; }
`;

/**
 * Live updates for a page that works without it: every few seconds (while the tab is visible)
 * the same URL is fetched and its `#live` region replaces this one's; a page whose region says
 * `data-poll="off"` (a finished run) is not fetched again. The form outside `#live` keeps what
 * the user typed. Without JavaScript the page's <noscript> meta refresh reloads it instead.
 */
export const liveJs = `
(() => {
  const state = document.getElementById('live-state');
  const every = () => Number(document.getElementById('live')?.dataset.poll) || 0;
  async function tick() {
    const live = document.getElementById('live');
    if (!live || !every()) return;
    if (!document.hidden) {
      try {
        const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin', cache: 'no-store' });
        if (!res.ok) throw new Error('HTTP ' + res.status);
        const next = new DOMParser().parseFromString(await res.text(), 'text/html').getElementById('live');
        if (!next) throw new Error('the page has no live region');
        live.replaceWith(document.adoptNode(next));
        if (state) state.textContent = 'live · updated ' + new Date().toLocaleTimeString();
      } catch (err) {
        if (state) state.textContent = 'live updates paused: ' + (err && err.message || err) + ' (retrying)';
      }
    }
    if (every()) setTimeout(tick, every());
    else if (state) state.textContent = 'finished: no more updates';
  }
  if (every()) {
    if (state) state.textContent = 'live';
    setTimeout(tick, every());
  }
})();
`;
