import Link from '@docusaurus/Link';
import CodeBlock from '@theme/CodeBlock';
import Layout from '@theme/Layout';
import { headline } from '../data/headline';

const echo = `import { openEventLoop } from '@iolease/adapters';

const { loop } = await openEventLoop(); // io_uring where available, else node:net
await loop.listen({ host: '127.0.0.1', port: 7000 }, () => ({
  onRead: (channel, lease) => channel.write(lease.bytes, () => lease.release()),
  onEnd: (channel) => channel.shutdown(),
}));`;

export default function Home() {
  return (
    <Layout
      title="Event-loop-owned I/O memory for Node.js"
      description="iolease: a specification, interfaces, an io_uring event loop and adapters for loop-owned receive memory in Node.js."
    >
      <main className="container margin-vert--xl">
        <h1>iolease</h1>
        <p className="hero__subtitle">Event-loop-owned I/O memory for Node.js.</p>
        <p>
          Completion-based I/O, such as Linux io_uring with provided buffers, needs the event loop, not each connection,
          to own receive memory, and needs writes to report when their memory is free. iolease is that contract, written
          down as a <Link to="/spec/">specification</Link> with numbered requirements, and proven: an io_uring event
          loop inside Node&apos;s own, a node:net backend for everywhere else, adapters that run <code>node:http</code>,
          TLS and HTTP/2 over either, and a conformance kit any backend runs.
        </p>
        <h2>Why loop-owned memory</h2>
        <p>
          With per-connection buffers, 10,000 idle connections pin 10,000 buffers. With a pool the loop owns, memory
          follows the data in flight, not the connection count: received bytes are lent to the application as{' '}
          <Link to="/docs/concepts#leases">leases</Link> and come back with <code>release()</code>.
        </p>
        <CodeBlock language="js" title="an echo server">
          {echo}
        </CodeBlock>
        <h2>Measured against plain node:net</h2>
        <div className="hero-figures">
          {headline.map((figure) => (
            <div key={figure.label}>
              <strong>{figure.value}</strong>
              {figure.label}
            </div>
          ))}
        </div>
        <p>
          Each a ratio to a baseline measured in the same run: see <Link to="/docs/benchmarks">Benchmarks</Link>.
        </p>
        <div className="margin-vert--lg">
          <Link className="button button--primary button--lg margin-right--md" to="/docs/quick-start">
            Quick start
          </Link>
          <Link className="button button--secondary button--lg" to="/guides/writing-a-backend">
            Write a backend
          </Link>
        </div>
      </main>
    </Layout>
  );
}
