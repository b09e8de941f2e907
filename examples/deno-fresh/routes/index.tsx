export default function Home() {
  return <h1>ok</h1>;
}
