// The page's one stylesheet and one small script, served as files (the CSP allows no inline
// script or style). The script only submits the filter form when a select changes.
export const UI_CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{display:flex;gap:1.5em;align-items:center;padding:.6em 1.2em;background:#1d2330;color:#fff}
header a{color:#cfd6e4;text-decoration:none;margin-right:1em}header a.active{color:#fff;font-weight:600}
header .logout{margin-left:auto}main{padding:1em 1.2em}h1 small{color:#667;font-weight:400}
table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:.3em .5em;border-bottom:1px solid #e3e6eb;text-align:left;vertical-align:top}
th a{color:inherit;text-decoration:none}table.vms{font-size:13px}table.vms td,table.vms th{white-space:nowrap}td.num{text-align:right;font-variant-numeric:tabular-nums}
.filters{display:flex;flex-wrap:wrap;gap:.6em;align-items:end;margin-bottom:.8em}.filters label{display:flex;flex-direction:column;font-size:12px;color:#556}
.counts{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1.2em}.type{font-size:11px;background:#e8ecf3;padding:0 .4em;border-radius:3px}
.muted{color:#889}.warn{color:#a15c00}.error{color:#b00020}.state-running{color:#0a7d32}.state-stopped{color:#889}
.plan-refused{color:#b00020}.plan-restart-required,.plan-changes-pending{color:#a15c00}.plan-in-sync{color:#0a7d32}.plan-unmanaged{color:#889}
.columns{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}pre.spec{background:#fff;padding:.8em;overflow:auto;border:1px solid #e3e6eb}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;background:#fff;padding:.8em;border:1px solid #e3e6eb}dt{color:#556}dd{margin:0}
.charts{display:flex;flex-wrap:wrap;gap:1em}.chart{margin:0;background:#fff;border:1px solid #e3e6eb;padding:.4em}
.chart .bg{fill:#fbfcfd}.chart .line{fill:none;stroke:#2f6fde;stroke-width:1.5}.chart .dot{fill:#2f6fde}
.bar svg{vertical-align:middle}.bar .track{fill:#e3e6eb}.bar .ok{fill:#2f9e5b}.bar .warm{fill:#e0a100}.bar .hot{fill:#d43c3c}
.pager{margin:.6em 0}.login{max-width:28em;margin:4em auto}section.hypervisor{margin-bottom:2em}
tr.row-error td{color:#b00020}
`;

export const UI_JS = `// Filters apply as soon as a select changes; without script the Filter button does it.
for (const el of document.querySelectorAll('select[data-autosubmit]')) el.addEventListener('change', () => el.form.requestSubmit());
`;
