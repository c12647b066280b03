(function(){
  function key(td){var v=td.getAttribute('data-sort');if(v===null)v=td.textContent.trim();
    var n=parseFloat(v);return isNaN(n)?{n:null,s:v.toLowerCase()}:{n:n,s:v};}
  function cmp(a,b){if(a.n!==null&&b.n!==null)return a.n-b.n;if(a.n!==null)return -1;
    if(b.n!==null)return 1;return a.s<b.s?-1:a.s>b.s?1:0;}
  document.querySelectorAll('table.sortable').forEach(function(t){
    t.querySelectorAll('thead th').forEach(function(th,i){
      th.addEventListener('click',function(){
        var asc=th.getAttribute('aria-sort')!=='ascending';
        t.querySelectorAll('thead th').forEach(function(h){h.removeAttribute('aria-sort');});
        th.setAttribute('aria-sort',asc?'ascending':'descending');
        var body=t.tBodies[0];var rows=Array.prototype.slice.call(body.rows);
        rows.sort(function(r1,r2){var a=key(r1.cells[i]),b=key(r2.cells[i]);
          var ea=a.n===null&&(a.s===''||a.s==='-'),eb=b.n===null&&(b.s===''||b.s==='-');
          if(ea||eb)return ea-eb;  /* missing values stay at the bottom either way */
          var c=cmp(a,b);return asc?c:-c;});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
    t.setAttribute('data-sortable','ready');
  });
})();
