export default function App() {
  return <h1>hello</h1>;
}
