namespace Shop.Core;

public static class Greeting
{
    public static string For(string name) => $"hello from {name}\n";
}
