"""Phrases in eight other languages, written for this project.

subject + predicate + adverbial + "." is a grammatical sentence in each language (third person
singular), so fastText identifies the language; a page uses each predicate at most once, so
pages read as prose rather than as a template echoing itself.
"""

from __future__ import annotations

from curation.testing.english import lines

LANGUAGES: dict[str, dict[str, list[str]]] = {
    "de": {
        "subjects": lines("""
            Meine Schwester
            Der neue Nachbar
            Unsere Lehrerin
            Jeder Besucher
            Das kleine Kind
            Der Bürgermeister
            Eine alte Freundin
            Der Koch im Restaurant
            Mein Vater
            Die Ärztin
            Der Briefträger
            Unsere Großmutter
        """),
        "predicates": lines("""
            kauft frisches Brot beim Bäcker
            liest gerne die Zeitung
            fährt mit dem Fahrrad zur Arbeit
            trinkt einen Kaffee mit viel Milch
            spricht über die Pläne für das nächste Jahr
            arbeitet an einem wichtigen Projekt
            besucht die Großeltern auf dem Land
            schreibt eine lange Nachricht an die Familie
            kocht eine Suppe mit Gemüse aus dem Garten
            sucht eine günstige Wohnung in der Stadt
            repariert das alte Fahrrad im Keller
            geht mit dem Hund im Park spazieren
            lernt seit kurzem Spanisch an der Volkshochschule
            hilft den Nachbarn beim Umzug
            pflanzt Tomaten und Kräuter auf dem Balkon
            wartet geduldig auf den verspäteten Zug
            erzählt den Kindern eine Geschichte
            räumt die Küche nach dem Essen auf
        """),
        "adverbials": lines("""
            jeden Morgen
            am Wochenende
            seit vielen Jahren
            trotz des schlechten Wetters
            nach der Arbeit
            in der Nähe des Bahnhofs
            fast immer ohne Hilfe
            mit großer Freude
            kurz vor dem Abendessen
            im Sommer
            zum ersten Mal
            wie jedes Jahr
        """),
        "boilerplate": lines("""
            Startseite
            Über uns
            Kontakt
            Impressum
            Datenschutz
            Wir verwenden Cookies, um Ihnen die bestmögliche Nutzung unserer Webseite zu ermöglichen.
            Alle Rechte vorbehalten.
        """),
    },
    "fr": {
        "subjects": lines("""
            Ma voisine
            Le nouveau professeur
            Notre équipe
            Chaque visiteur
            Le petit garçon
            La directrice de l'école
            Un vieil ami
            Le boulanger du quartier
            Mon grand-père
            La journaliste
            Le facteur
            Ma tante
        """),
        "predicates": lines("""
            achète du pain frais tous les jours
            lit le journal en buvant son café
            prend le train pour aller au travail
            prépare un repas pour toute la famille
            parle des projets pour l'année prochaine
            travaille sur un dossier très important
            rend visite à ses parents à la campagne
            écrit une longue lettre à sa sœur
            cherche un appartement moins cher dans le centre
            regarde les nouvelles à la télévision
            répare le vieux vélo dans le garage
            promène le chien au bord de la rivière
            apprend l'espagnol avec une application
            aide les voisins à déménager
            plante des tomates sur le balcon
            attend patiemment le bus de huit heures
            raconte une histoire aux enfants
            range la cuisine après le dîner
        """),
        "adverbials": lines("""
            chaque matin
            pendant le week-end
            depuis plusieurs années
            malgré la pluie
            après le travail
            près de la gare
            presque toujours sans aide
            avec beaucoup de plaisir
            juste avant le dîner
            en été
            pour la première fois
            comme chaque année
        """),
        "boilerplate": lines("""
            Accueil
            À propos
            Contact
            Mentions légales
            Confidentialité
            Nous utilisons des cookies pour vous garantir la meilleure expérience sur notre site.
            Tous droits réservés.
        """),
    },
    "es": {
        "subjects": lines("""
            Mi hermana
            El nuevo vecino
            Nuestra profesora
            Cada visitante
            El niño pequeño
            El alcalde de la ciudad
            Una vieja amiga
            El cocinero del restaurante
            Mi padre
            La doctora
            El cartero
            Mi abuela
        """),
        "predicates": lines("""
            compra pan fresco en la panadería
            lee el periódico mientras desayuna
            va en bicicleta al trabajo
            prepara una comida para toda la familia
            habla de los planes para el próximo año
            trabaja en un proyecto muy importante
            visita a sus abuelos en el pueblo
            escribe un mensaje largo a sus amigos
            busca un piso más barato en el centro
            cuida las plantas del jardín
            arregla la bicicleta vieja en el garaje
            pasea al perro por el parque
            aprende inglés en una academia
            ayuda a los vecinos con la mudanza
            planta tomates en el balcón
            espera con paciencia el autobús de las ocho
            cuenta un cuento a los niños
            recoge la cocina después de cenar
        """),
        "adverbials": lines("""
            todas las mañanas
            durante el fin de semana
            desde hace muchos años
            a pesar de la lluvia
            después del trabajo
            cerca de la estación
            casi siempre sin ayuda
            con mucha alegría
            justo antes de la cena
            en verano
            por primera vez
            como cada año
        """),
        "boilerplate": lines("""
            Inicio
            Quiénes somos
            Contacto
            Aviso legal
            Privacidad
            Utilizamos cookies para mejorar su experiencia en nuestro sitio web.
            Todos los derechos reservados.
        """),
    },
    "it": {
        "subjects": lines("""
            Mia sorella
            Il nuovo vicino
            La nostra insegnante
            Ogni visitatore
            Il bambino
            Il sindaco della città
            Una vecchia amica
            Il cuoco del ristorante
            Mio padre
            La dottoressa
            Il postino
            Mia nonna
        """),
        "predicates": lines("""
            compra il pane fresco dal fornaio
            legge il giornale mentre fa colazione
            va al lavoro in bicicletta
            prepara la cena per tutta la famiglia
            parla dei progetti per il prossimo anno
            lavora a un progetto molto importante
            va a trovare i nonni in campagna
            scrive un lungo messaggio agli amici
            cerca un appartamento meno caro in centro
            cura le piante del giardino
            ripara la vecchia bicicletta in cantina
            porta il cane a passeggio nel parco
            studia il tedesco con un corso serale
            aiuta i vicini a traslocare
            pianta i pomodori sul balcone
            aspetta con pazienza l'autobus delle otto
            racconta una favola ai bambini
            riordina la cucina dopo cena
        """),
        "adverbials": lines("""
            ogni mattina
            durante il fine settimana
            da molti anni
            nonostante la pioggia
            dopo il lavoro
            vicino alla stazione
            quasi sempre senza aiuto
            con grande piacere
            poco prima di cena
            d'estate
            per la prima volta
            come ogni anno
        """),
        "boilerplate": lines("""
            Home
            Chi siamo
            Contatti
            Note legali
            Privacy
            Utilizziamo i cookie per offrirti la migliore esperienza sul nostro sito.
            Tutti i diritti riservati.
        """),
    },
    "pt": {
        "subjects": lines("""
            A minha irmã
            O novo vizinho
            A nossa professora
            Cada visitante
            O menino
            O presidente da câmara
            Uma velha amiga
            O cozinheiro do restaurante
            O meu pai
            A médica
            O carteiro
            A minha avó
        """),
        "predicates": lines("""
            compra pão fresco na padaria
            lê o jornal enquanto toma o pequeno-almoço
            vai de bicicleta para o trabalho
            prepara o jantar para toda a família
            fala sobre os planos para o próximo ano
            trabalha num projeto muito importante
            visita os avós no campo
            escreve uma mensagem comprida aos amigos
            procura um apartamento mais barato no centro
            cuida das plantas do jardim
            conserta a bicicleta velha na garagem
            passeia o cão no jardim municipal
            aprende francês num curso noturno
            ajuda os vizinhos com a mudança
            planta tomates na varanda
            espera com paciência pelo autocarro das oito
            conta uma história às crianças
            arruma a cozinha depois do jantar
        """),
        "adverbials": lines("""
            todas as manhãs
            durante o fim de semana
            há muitos anos
            apesar da chuva
            depois do trabalho
            perto da estação
            quase sempre sem ajuda
            com muita alegria
            pouco antes do jantar
            no verão
            pela primeira vez
            como todos os anos
        """),
        "boilerplate": lines("""
            Início
            Sobre nós
            Contacto
            Termos
            Privacidade
            Utilizamos cookies para melhorar a sua experiência no nosso site.
            Todos os direitos reservados.
        """),
    },
    "nl": {
        "subjects": lines("""
            Mijn zus
            De nieuwe buurman
            Onze lerares
            Elke bezoeker
            Het kleine kind
            De burgemeester
            Een oude vriendin
            De kok van het restaurant
            Mijn vader
            De huisarts
            De postbode
            Mijn oma
        """),
        "predicates": lines("""
            koopt vers brood bij de bakker
            leest graag de krant bij het ontbijt
            fietst elke dag naar het werk
            kookt een maaltijd voor de hele familie
            praat over de plannen voor het volgende jaar
            werkt aan een heel belangrijk project
            bezoekt de grootouders op het platteland
            schrijft een lang bericht aan de vrienden
            zoekt een goedkopere woning in het centrum
            zorgt voor de planten in de tuin
            repareert de oude fiets in de schuur
            laat de hond uit in het park
            leert Spaans op een avondcursus
            helpt de buren met de verhuizing
            plant tomaten op het balkon
            wacht geduldig op de bus van acht uur
            vertelt de kinderen een verhaal
            ruimt de keuken op na het eten
        """),
        "adverbials": lines("""
            elke ochtend
            in het weekend
            al vele jaren
            ondanks het slechte weer
            na het werk
            vlak bij het station
            bijna altijd zonder hulp
            met veel plezier
            vlak voor het avondeten
            in de zomer
            voor het eerst
            net als elk jaar
        """),
        "boilerplate": lines("""
            Home
            Over ons
            Contact
            Disclaimer
            Privacy
            Wij gebruiken cookies om u de beste ervaring op onze website te bieden.
            Alle rechten voorbehouden.
        """),
    },
    "pl": {
        "subjects": lines("""
            Moja siostra
            Nowy sąsiad
            Nasza nauczycielka
            Każdy gość
            Małe dziecko
            Burmistrz miasta
            Stara przyjaciółka
            Kucharz z restauracji
            Mój ojciec
            Pani doktor
            Listonosz
            Moja babcia
        """),
        "predicates": lines("""
            kupuje świeży chleb w piekarni
            czyta gazetę przy śniadaniu
            jeździ rowerem do pracy
            gotuje obiad dla całej rodziny
            mówi o planach na przyszły rok
            pracuje nad bardzo ważnym projektem
            odwiedza dziadków na wsi
            pisze długą wiadomość do przyjaciół
            szuka tańszego mieszkania w centrum
            dba o rośliny w ogrodzie
            naprawia stary rower w garażu
            wyprowadza psa na spacer do parku
            uczy się hiszpańskiego na kursie wieczornym
            pomaga sąsiadom w przeprowadzce
            sadzi pomidory na balkonie
            cierpliwie czeka na autobus o ósmej
            opowiada dzieciom bajkę
            sprząta kuchnię po kolacji
        """),
        "adverbials": lines("""
            każdego ranka
            w weekend
            od wielu lat
            mimo złej pogody
            po pracy
            niedaleko dworca
            prawie zawsze bez pomocy
            z wielką przyjemnością
            tuż przed kolacją
            latem
            po raz pierwszy
            jak co roku
        """),
        "boilerplate": lines("""
            Strona główna
            O nas
            Kontakt
            Regulamin
            Polityka prywatności
            Używamy plików cookie, aby zapewnić najlepsze działanie naszej strony.
            Wszelkie prawa zastrzeżone.
        """),
    },
    "sv": {
        "subjects": lines("""
            Min syster
            Den nya grannen
            Vår lärare
            Varje besökare
            Det lilla barnet
            Kommunens ordförande
            En gammal vän
            Kocken på restaurangen
            Min pappa
            Läkaren
            Brevbäraren
            Min mormor
        """),
        "predicates": lines("""
            köper färskt bröd hos bagaren
            läser tidningen till frukosten
            cyklar till jobbet
            lagar middag åt hela familjen
            pratar om planerna för nästa år
            arbetar med ett mycket viktigt projekt
            hälsar på sina morföräldrar på landet
            skriver ett långt meddelande till vännerna
            letar efter en billigare lägenhet i centrum
            sköter om växterna i trädgården
            lagar den gamla cykeln i förrådet
            går ut med hunden i parken
            lär sig spanska på en kvällskurs
            hjälper grannarna med flytten
            planterar tomater på balkongen
            väntar tålmodigt på bussen klockan åtta
            berättar en saga för barnen
            städar köket efter middagen
        """),
        "adverbials": lines("""
            varje morgon
            under helgen
            sedan många år
            trots det dåliga vädret
            efter jobbet
            nära stationen
            nästan alltid utan hjälp
            med stor glädje
            strax före middagen
            på sommaren
            för första gången
            som varje år
        """),
        "boilerplate": lines("""
            Hem
            Om oss
            Kontakt
            Villkor
            Integritet
            Vi använder cookies för att ge dig den bästa upplevelsen på vår webbplats.
            Alla rättigheter förbehållna.
        """),
    },
}
COUNTRY_TLDS = {"de": "de", "fr": "fr", "es": "es", "it": "it", "pt": "pt", "nl": "nl", "pl": "pl", "sv": "se"}
