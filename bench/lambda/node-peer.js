// The start-up peer of bench/lambda: a Node.js function in its smallest form — Node itself and a
// Lambda Runtime API loop that answers every event with {PhysicalResourceId}, without loading
// the AWS SDK or any handler code. The seeds' custom resource handlers are Node.js and Java; this
// is a lower bound for the Node.js ones' own start-up (Lambda's managed runtime adds its own).
const http = require('http');
const api = process.env.AWS_LAMBDA_RUNTIME_API;
const [host, port] = api.split(':');

function next() {
  http.get({ host, port, path: '/2018-06-01/runtime/invocation/next' }, (res) => {
    const id = res.headers['lambda-runtime-aws-request-id'];
    let body = '';
    res.on('data', (chunk) => { body += chunk; });
    res.on('end', () => {
      const event = JSON.parse(body);
      const answer = JSON.stringify({ PhysicalResourceId: event.PhysicalResourceId });
      const req = http.request({
        host, port, method: 'POST',
        path: `/2018-06-01/runtime/invocation/${id}/response`,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) },
      }, (r) => { r.resume(); r.on('end', next); });
      req.end(answer);
    });
  });
}
next();
