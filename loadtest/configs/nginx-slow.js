// Backend-side slow endpoint (scenario g): answers a small JSON document after SLOW_MS milliseconds
// (setTimeout, so the backend's one worker keeps serving the fast requests meanwhile).
function reply(r) {
    setTimeout(function () {
        r.headersOut['Content-Type'] = 'application/json';
        r.return(200, '{"id":7,"slow":true,"note":"answered after a delay"}');
    }, @SLOW_MS@);
}

export default {reply};
