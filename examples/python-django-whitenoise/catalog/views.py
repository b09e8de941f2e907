from django.shortcuts import render


def index(request):
    """The home page; its stylesheet link needs the static files manifest."""
    return render(request, 'index.html', {'num_visits': 1})
