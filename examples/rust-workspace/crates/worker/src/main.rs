fn main() {
    print!("{}", core::greeting("worker"));
}
