// nginx + njs counterpart of Ringway's /agg (loadtest/configs/ringway.json): three subrequests to the same
// backends, JSON.parse, keep the allowed fields, put each under its group, JSON.stringify.
// Keys are added in sorted order, as Ringway (like KrakenD) encodes objects with sorted keys.
var BACKENDS = [
    {path: '/_b/user.json', group: 'user', allow: ['id', 'login', 'name', 'plan']},
    {path: '/_b/posts.json', group: 'posts', allow: ['latest', 'total']},
    {path: '/_b/stats.json', group: 'stats', allow: ['followers', 'repos', 'stars']},
];

function pick(obj, allow) {
    var out = {};
    for (var i = 0; i < allow.length; i++) {
        if (obj[allow[i]] !== undefined) out[allow[i]] = obj[allow[i]];
    }
    return out;
}

async function agg(r) {
    var replies = await Promise.all(BACKENDS.map(function (b) { return r.subrequest(b.path); }));
    var merged = {};
    var groups = BACKENDS.map(function (b, i) { return [b.group, i]; }).sort();
    for (var j = 0; j < groups.length; j++) {
        var i = groups[j][1];
        if (replies[i].status !== 200) continue;
        merged[BACKENDS[i].group] = pick(JSON.parse(replies[i].responseText), BACKENDS[i].allow);
    }
    r.headersOut['Content-Type'] = 'application/json; charset=utf-8';
    r.return(200, JSON.stringify(merged));
}

export default {agg};
