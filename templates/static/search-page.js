/* /search/ on a static host: the page the search server renders (templates/search.html,
   jixiao/serve.py search_view), made in the browser from the answer of search-engine.js.
   Without JavaScript, or before the site has a static index, the page keeps its notice
   (browse by unit, department, year, indicator; download the data).  Downloads of a
   result need the server: here the page links the whole data set instead. */
(function () {
  "use strict";
  const S = window.JixiaoSearch;
  const FACET_LABELS = { year: "年度", unit: "实施单位", department: "主管部门", category: "指标类别" };
  const FIELD_LABELS = { name: "项目名称", unit: "实施单位", department: "主管部门", nature: "项目性质",
    category: "项目类别", "goals.overall": "项目总目标", "goals.annual": "年度总体目标" };
  const MATCH_LABELS = { synonym: "同义词", year: "按所说的年度", words: "按主要词语",
    relaxed: "近似：字序相同", suggestion: "按更正后的词" };
  const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&#34;").replace(/'/g, "&#39;");
  const fieldLabel = (f) => (f.startsWith("sections.") ? f.slice(9) : FIELD_LABELS[f] || f);
  const href = (p) => { const qs = p.queryString(); return "/search/" + (qs ? "?" + qs : ""); };

  function pageNumbers(number, count) {
    const set = new Set([1, count]);
    for (let k = Math.max(1, number - 2); k <= Math.min(count, number + 2); k++) set.add(k);
    return [...set].sort((a, b) => a - b);
  }

  function amountRange(low, high) {
    if (low && high) return `${low}–${high} 万元`;
    return low ? `不少于 ${low} 万元` : `不超过 ${high} 万元`;
  }

  function hits(doc, q) {
    return doc.results.map((r) => {
      const match = r.match && r.match !== "exact" ? `<span class="match">${esc(MATCH_LABELS[r.match])}</span>` : "";
      if (r.type === "unit") return `<li class="hit hit-unit"><span class="kind">单位</span> <a href="${esc(r.url)}">${esc(r.title)}</a>${match ? " " + match : ""}</li>`;
      const name = r.snippets.find((s) => s.field === "name"), unit = r.snippets.find((s) => s.field === "unit");
      const rest = r.snippets.filter((s) => s.field !== "name" && s.field !== "unit")
        .map((s) => `<p class="snippet"><span class="field">${esc(fieldLabel(s.field))}</span> ${s.html}</p>`).join("");
      const indicators = r.indicators.length ? `<details class="hit-indicators"${r.indicators.length <= 5 ? " open" : ""}>
        <summary>匹配的指标（${r.indicators.length}）</summary><ul>${r.indicators.map((i) => `<li>${i.html}</li>`).join("")}</ul></details>` : "";
      return `<li class="hit" data-amount="${esc(r.annual_yuan)}"><h3><a href="${esc(r.url)}">${name ? name.html : esc(r.title)}</a></h3>
      <p class="hit-meta">${match ? match + " " : ""}${esc(r.year)}年度 · ${unit ? unit.html : esc(r.unit.name)} · 年度资金 ${r.amount_html || esc(r.annual_yuan + " 元")}</p>${rest}${indicators}</li>`;
    }).join("");
  }

  function render(params, doc) {
    const q = params.q;
    const more = doc.facets_more || {};
    const facets = S.FACETS.map((f) => {
      const entries = doc.facets[f];
      if (!entries.length) return "";
      return `<section><h2>${FACET_LABELS[f]}</h2><ul>${entries.map((e) => `<li><a href="${esc(href(params.toggled(f, e.value)))}"${e.selected ? ' aria-current="true" class="selected"' : ""}>${esc(e.label)}</a> <span class="count">${e.count}</span>${e.selected ? ' <span class="visually-hidden">（已选，点击取消）</span>' : ""}</li>`).join("")}</ul>${more[f] ? `<p class="facet-more">另有 ${more[f]} 个未列出，可在搜索框输入名称查找</p>` : ""}</section>`;
    }).join("");
    const pages = Math.max(1, Math.ceil(doc.total / params.page_size));
    let head = `<h2 id="results-heading" role="status">${q ? `“${esc(q)}”：` : ""}共 ${doc.total} 个项目${pages > 1 ? `，第 ${doc.page}/${pages} 页` : ""}</h2>`;
    if (doc.notice === "ignored") head += `<p class="search-notice" role="status">“${esc(q)}”中没有可以搜索的文字：本站按汉字、拉丁字母和数字搜索，表情、标点和其他文字会被忽略。</p>`;
    if (doc.suggestion) head += `<p class="search-suggestion">您是不是要找：<a href="${esc(doc.suggestion.url)}">${esc(doc.suggestion.q)}</a>${(doc.matches || {}).suggestion === doc.total ? `（没有找到“${esc(q)}”，下面是“${esc(doc.suggestion.q)}”的结果）` : ""}</p>`;
    if (doc.also_searched) head += `<p class="search-also">也搜索了：${doc.also_searched.map((w) => `<a href="/search/?q=${encodeURIComponent(w)}">${esc(w)}</a>`).join("、")}</p>`;
    const hidden = (pairs) => pairs.map(([n, v]) => `<input type="hidden" name="${esc(n)}" value="${esc(v)}">`).join("");
    const facetPairs = S.FACETS.flatMap((f) => params[f].map((v) => [f, v]));
    head += `<form class="search-order" action="/search/" method="get">${hidden((q ? [["q", q]] : []).concat(facetPairs))}
      <label>排序 <select name="sort">${Object.entries(S.SORTS).map(([v, l]) => `<option value="${v}"${params.sort === v ? " selected" : ""}>${esc(l)}</option>`).join("")}</select></label>
      <span class="amount-range"><label>年度资金 从 <input name="amount_min" inputmode="decimal" size="6" value="${esc(params.amount_min)}" aria-label="年度资金下限（万元）"></label>
      <label>到 <input name="amount_max" inputmode="decimal" size="6" value="${esc(params.amount_max)}" aria-label="年度资金上限（万元）"> 万元</label></span>
      <button type="submit">应用</button></form>`;
    const filtered = Object.keys(params.filters).length || params.amount_min || params.amount_max;
    const clear = filtered ? ` · <a href="${esc(href(S.makeParams({ q, sort: params.sort, page_size: params.page_size })))}">清除筛选</a>` : "";
    head += `<p class="search-sort"><a class="to-filters" href="#filters">按年度、单位、主管部门、类别筛选 ↓</a>${clear} · 下载：<a href="/data/">全部数据（CSV、Excel、JSON）</a></p>`;
    if (!doc.results.length) {
      if (doc.total) head += "<p>这一页没有结果。</p>";
      else {
        const drops = S.FACETS.flatMap((f) => params[f].map((v) => {
          const e = doc.facets[f].find((x) => x.value === v);
          return `<li>去掉筛选<a href="${esc(href(params.toggled(f, v)))}">${FACET_LABELS[f]}：${esc(e ? e.label : v)}</a></li>`;
        }));
        if (params.amount_min || params.amount_max) drops.push(`<li>去掉筛选<a href="${esc(href(params.with({ amount_min: "", amount_max: "", page: 1 })))}">年度资金：${esc(amountRange(params.amount_min, params.amount_max))}</a></li>`);
        const notChinese = q.trim() && !/[\u3400-\u9fff]/.test(q);
        head += `<div class="search-empty"><p>没有找到${q ? `包含“${esc(q)}”的` : ""}项目。可以这样试试：</p><ul>
          ${notChinese ? "<li>本站的内容是中文的项目绩效目标表，请用中文字词搜索，例如“燃气”“消火栓”“满意度”。</li>" : ""}${drops.join("")}
          <li>减少字词或换一种说法（例如用单位简称“公积金中心”、日常说法“路灯”）</li>
          <li>按<a href="/units/">单位</a>、<a href="/departments/">主管部门</a>、<a href="/years/">年度</a>或<a href="/indicators/">指标类别</a>浏览全部项目</li></ul></div>`;
      }
    }
    let pager = "";
    if (pages > 1) {
      const links = [];
      let last = 0;
      for (const n of pageNumbers(params.page, pages)) {
        if (n > last + 1) links.push("<li>…</li>");
        links.push(`<li><a href="${esc(href(params.with({ page: n })))}"${n === params.page ? ' aria-current="page"' : ""}>${n}</a></li>`);
        last = n;
      }
      const prev = params.page > 1 ? `<li><a href="${esc(href(params.with({ page: Math.min(params.page - 1, pages) })))}" rel="prev">上一页</a></li>` : "";
      const next = params.page < pages ? `<li><a href="${esc(href(params.with({ page: params.page + 1 })))}" rel="next">下一页</a></li>` : "";
      pager = `<nav class="pagination" aria-label="分页"><ul>${prev}${links.join("")}${next}</ul></nav>`;
    }
    return `<div class="search-layout"><aside class="search-facets" id="filters" aria-label="筛选">${facets}</aside>
      <section class="search-results" aria-labelledby="results-heading" data-total="${doc.total}">${head}<ol class="search-hits">${hits(doc, q)}</ol>${pager}</section></div>`;
  }

  async function load(url) {
    const response = await fetch(url);
    if (!response.ok) return null;
    return response.arrayBuffer();
  }

  async function run() {
    const notice = document.querySelector(".search-notice[data-static]");
    if (!notice || !S) return;
    const form = document.querySelector(".search-page-form");
    const args = S.parseArgs(location.search);
    let params;
    try {
      params = S.parseParams(args);
    } catch (e) {
      if (!(e instanceof S.ParamError)) throw e;
      notice.outerHTML = `<p class="search-error" role="alert">${esc(e.message)}</p>`;
      return;
    }
    const input = form.querySelector("input[name=q]");
    input.value = params.q;
    for (const f of S.FACETS) for (const v of params[f]) form.insertAdjacentHTML("beforeend", `<input type="hidden" name="${f}" value="${esc(v)}">`);
    for (const name of ["amount_min", "amount_max", "sort"]) if (params[name] && params[name] !== "relevance") form.insertAdjacentHTML("beforeend", `<input type="hidden" name="${name}" value="${esc(params[name])}">`);
    if (params.page_size !== S.DEFAULT_PAGE_SIZE) form.insertAdjacentHTML("beforeend", `<input type="hidden" name="page_size" value="${params.page_size}">`);
    const original = notice.innerHTML;
    notice.textContent = "正在搜索……";
    const engine = await S.open(load);
    if (!engine) {
      notice.innerHTML = original;         // the site was built without its static index
      return;
    }
    const doc = await engine.search(args);
    if (params.q) document.title = `${params.q} · ${document.title}`;
    notice.outerHTML = render(params, doc);
    performance.mark("first-results");     // bench/static_search.py: time to first results
  }

  run().catch((e) => {
    const notice = document.querySelector(".search-notice[data-static]");
    if (notice) notice.textContent = "搜索出错，请稍后再试，或按单位、年度浏览。";
    throw e;
  });
})();
