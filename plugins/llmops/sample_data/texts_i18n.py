"""Spanish, German and French tickets and reviews (several full sentences each, as real customers write).

Slots: product order days n hours carrier device date_num price.
"""

from __future__ import annotations

from llmops.sample_data.grammar import templates

LANGUAGES = ("es", "de", "fr")

TICKET = {
    "es": {
        "subject": templates(
            "[Problema con|Consulta sobre] [mi pedido {order}|el producto]",
            "[Pedido|Paquete] [no recibido|retrasado|dañado]",
            "Devolución del pedido {order}",
        ),
        "customer": templates(
            "[Hola|Buenos días|Buenas tardes], [compré|pedí] el {product} [hace {days} días|el {date_num}] y "
            "[todavía no ha llegado|llegó con la pantalla rota|no se enciende|la batería dura muy poco].",
            "El pedido {order} [sigue|está] [sin enviar|en tránsito|retenido en aduanas] y nadie me "
            "[contesta|da "
            "una respuesta] [desde hace {days} días|desde el {date_num}].",
            "[Cuando|Cada vez que] intento [conectarlo|emparejarlo] con mi {device}, [se desconecta|no "
            "aparece|da "
            "un error] [cada pocos minutos|todo el tiempo|al final del proceso].",
            "Ya [probé|intenté] [reiniciarlo|con otro cable|restablecer los valores de fábrica][ dos veces| "
            "varias "
            "veces|] pero [no funcionó|sigue igual|el problema vuelve].",
            "Es un regalo para mi [hermana|padre|hijo|madre] y lo necesito [antes del fin de semana|para el "
            "viernes|cuanto antes].",
            "¿[Podrían|Pueden] [enviarme un reemplazo|devolverme el dinero|decirme qué tengo que hacer] [lo "
            "antes "
            "posible|esta semana|por favor]?",
            "[Muchas gracias|Gracias] [de antemano|por su ayuda|por la atención]. [Un saludo|Saludos "
            "cordiales].",
        ),
        "agent": templates(
            "[Hola|Buenos días], [gracias por escribirnos|sentimos mucho las molestias|lamentamos el "
            "problema].",
            "[Hemos enviado|Ya enviamos] un [reemplazo|producto nuevo] [con {carrier}|hoy mismo] y [le "
            "llegará|debería llegar] en {days} días.",
            "[Hemos abierto|Abrimos] una [incidencia|reclamación] con {carrier} y le "
            "[escribiremos|avisaremos] "
            "en {hours} horas.",
            "Por favor, [mantenga pulsado|pulse] el botón de encendido durante {n} segundos [y vuelva a "
            "emparejarlo|para reiniciarlo].",
            "Si el problema [continúa|sigue], le [enviamos|mandamos] una etiqueta de devolución gratuita.",
            "[Un saludo|Atentamente], el equipo de atención al cliente.",
        ),
        "resolution": templates(
            "[Reemplazo enviado|Reembolso realizado|Incidencia resuelta] [con {carrier}|el {date_num}]."
        ),
    },
    "de": {
        "subject": templates(
            "[Problem mit|Frage zu] [meiner Bestellung {order}|dem Gerät]",
            "[Bestellung|Paket] [nicht angekommen|verspätet|beschädigt]",
            "Rücksendung für {order}",
        ),
        "customer": templates(
            "[Hallo|Guten Tag|Sehr geehrte Damen und Herren], ich habe [vor {days} Tagen|am {date_num}] den "
            "{product} [bestellt|gekauft] und [er ist immer noch nicht angekommen|das Display ist "
            "gesprungen|er "
            "lässt sich nicht einschalten|der Akku hält nur kurz].",
            "Die Bestellung {order} [ist seit|hängt seit] [{days} Tagen|dem {date_num}] [im Versand|beim "
            "Zoll|"
            "im Lager] und niemand [antwortet mir|meldet sich].",
            "[Wenn|Jedes Mal wenn] ich [das Gerät|ihn] mit meinem {device} [verbinden|koppeln] will, [bricht "
            "die "
            "Verbindung ab|erscheint er nicht|kommt eine Fehlermeldung] [alle paar Minuten|ständig|am Ende].",
            "Ich habe [schon|bereits] [einen Neustart|ein anderes Kabel|das Zurücksetzen auf "
            "Werkseinstellungen]"
            "[ zweimal| mehrmals|] versucht, aber [es hat nicht geholfen|nichts hat sich geändert].",
            "Es ist ein Geschenk für meine [Schwester|Mutter|Tochter] und ich brauche es [vor dem "
            "Wochenende|bis "
            "Freitag|so schnell wie möglich].",
            "[Können|Könnten] Sie mir [bitte|schnell] [ein Ersatzgerät schicken|das Geld erstatten|sagen, "
            "was "
            "ich tun soll]?",
            "[Vielen Dank|Danke] [im Voraus|für Ihre Hilfe]. [Mit freundlichen Grüßen|Viele Grüße].",
        ),
        "agent": templates(
            "[Hallo|Guten Tag], [vielen Dank für Ihre Nachricht|es tut uns sehr leid|entschuldigen Sie bitte "
            "die "
            "Unannehmlichkeiten].",
            "Wir haben [heute|soeben] ein [Ersatzgerät|neues Gerät] [mit {carrier}|per Express] verschickt, "
            "es "
            "[kommt|sollte] in {days} Tagen [an|ankommen].",
            "Wir haben [einen Nachforschungsauftrag|eine Reklamation] bei {carrier} [eröffnet|gestellt] und "
            "melden uns innerhalb von {hours} Stunden.",
            "Bitte halten Sie die Einschalttaste {n} Sekunden [lang gedrückt|gedrückt] und [koppeln Sie das "
            "Gerät erneut|starten Sie es neu].",
            "Wenn das Problem [bleibt|weiterhin besteht], schicken wir Ihnen ein kostenloses "
            "Rücksendeetikett.",
            "[Mit freundlichen Grüßen|Viele Grüße], Ihr Kundenservice.",
        ),
        "resolution": templates(
            "[Ersatz verschickt|Erstattung veranlasst|Problem gelöst] [mit {carrier}|am {date_num}]."
        ),
    },
    "fr": {
        "subject": templates(
            "[Problème avec|Question sur] [ma commande {order}|le produit]",
            "[Commande|Colis] [non reçue|en retard|endommagée]",
            "Retour de la commande {order}",
        ),
        "customer": templates(
            "[Bonjour|Bonsoir|Madame, Monsieur], j'ai [commandé|acheté] le {product} [il y a {days} jours|le "
            "{date_num}] et [il n'est toujours pas arrivé|l'écran est fissuré|il ne s'allume pas|la batterie "
            "ne "
            "tient pas].",
            "La commande {order} est [bloquée|en transit|retenue à la douane] [depuis {days} jours|depuis le "
            "{date_num}] et personne ne me [répond|donne de nouvelles].",
            "[Quand|Chaque fois que] j'essaie de [le connecter|l'appairer] avec mon {device}, [la connexion "
            "se "
            "coupe|il n'apparaît pas|un message d'erreur s'affiche] [toutes les deux minutes|sans arrêt|à la "
            "fin].",
            "J'ai [déjà |]essayé [de le redémarrer|un autre câble|la réinitialisation d'usine][ deux fois|"
            " plusieurs fois|] mais [cela n'a rien changé|le problème revient].",
            "C'est un cadeau pour ma [sœur|mère|fille] et j'en ai besoin [avant le week-end|pour vendredi|le "
            "plus "
            "vite possible].",
            "Pouvez-vous [m'envoyer un produit de remplacement|me rembourser|me dire quoi faire] "
            "[rapidement|cette "
            "semaine|s'il vous plaît] ?",
            "[Merci beaucoup|Merci d'avance] pour votre aide. [Cordialement|Bien à vous].",
        ),
        "agent": templates(
            "[Bonjour|Bonsoir], [merci pour votre message|nous sommes désolés pour ce désagrément|nous vous "
            "prions de nous excuser].",
            "Nous avons [expédié|envoyé] un [produit de remplacement|nouvel appareil] [avec "
            "{carrier}|aujourd'hui] "
            "et il [arrivera|devrait arriver] dans {days} jours.",
            "Nous avons ouvert une [enquête|réclamation] auprès de {carrier} et nous reviendrons vers vous "
            "sous "
            "{hours} heures.",
            "Merci de [maintenir|garder] le bouton d'alimentation appuyé pendant {n} secondes [puis de "
            "l'appairer à nouveau|pour le redémarrer].",
            "Si le problème [persiste|continue], nous vous envoyons une étiquette de retour gratuite.",
            "[Cordialement|Bien à vous], le service client.",
        ),
        "resolution": templates(
            "[Remplacement expédié|Remboursement effectué|Problème résolu] [avec {carrier}|le {date_num}]."
        ),
    },
}

REVIEW = {
    "es": {
        "title": {
            "positive": templates("[Muy buena compra|Excelente producto|Lo recomiendo|Muy contento]"),
            "negative": templates("[Decepcionante|No lo recomiendo|Mala calidad|Dejó de funcionar]"),
        },
        "body": {
            "positive": templates(
                "[Compré|Pedí] el {product} [para el trabajo|para mi hijo|como regalo] y estoy [muy "
                "|]contento.",
                "[El sonido|La batería|La calidad de construcción] es [excelente|muy buena|mejor de lo que "
                "esperaba] y [llegó|el envío llegó] en {days} días.",
                "La configuración con mi {device} fue [muy fácil|rápida] y [funciona|va] [perfectamente|sin "
                "problemas].",
                "[Lo recomiendo|Volvería a comprarlo] sin [ninguna |]duda.",
            ),
            "negative": templates(
                "El {product} [dejó de funcionar|se rompió] [a los {days} días|después de una semana].",
                "[La batería|El sonido|La conexión con mi {device}] es [malísima|muy mala|un desastre] y el "
                "servicio [no responde|tarda mucho en contestar].",
                "Por {price} esperaba [mucho más|una calidad mejor|que durara más].",
                "No [lo recomiendo|vale lo que cuesta], lo voy a devolver.",
            ),
        },
    },
    "de": {
        "title": {
            "positive": templates("[Sehr guter Kauf|Tolles Produkt|Klare Empfehlung|Sehr zufrieden]"),
            "negative": templates(
                "[Enttäuschend|Nicht zu empfehlen|Schlechte Qualität|Nach kurzer Zeit defekt]"
            ),
        },
        "body": {
            "positive": templates(
                "Ich habe den {product} [für die Arbeit|für meinen Sohn|als Geschenk] gekauft und bin [sehr "
                "|]"
                "zufrieden.",
                "[Der Klang|Der Akku|Die Verarbeitung] ist [hervorragend|sehr gut|besser als erwartet] und "
                "die "
                "Lieferung hat nur {days} Tage gedauert.",
                "Die Einrichtung mit meinem {device} war [ganz einfach|schnell erledigt] und alles [läuft|"
                "funktioniert] [einwandfrei|ohne Probleme].",
                "[Ich würde ihn wieder kaufen|Klare Kaufempfehlung] und [gebe|vergebe] gerne alle Sterne.",
            ),
            "negative": templates(
                "Der {product} ist [nach {days} Tagen|nach einer Woche] [kaputt gegangen|ausgefallen].",
                "[Der Akku|Der Klang|Die Verbindung mit meinem {device}] ist [miserabel|sehr schlecht|eine "
                "Katastrophe] und der Kundendienst [antwortet nicht|braucht ewig].",
                "Für {price} habe ich [viel mehr|eine bessere Qualität] erwartet.",
                "Ich kann ihn nicht empfehlen und schicke ihn zurück.",
            ),
        },
    },
    "fr": {
        "title": {
            "positive": templates("[Très bon achat|Excellent produit|Je recommande|Très satisfait]"),
            "negative": templates("[Décevant|À éviter|Mauvaise qualité|Tombé en panne]"),
        },
        "body": {
            "positive": templates(
                "J'ai acheté le {product} [pour le travail|pour mon fils|comme cadeau] et je suis [très |]"
                "satisfait.",
                "[Le son|La batterie|La finition] est [excellente|très bonne|meilleure que prévu] et la "
                "livraison "
                "n'a pris que {days} jours.",
                "L'installation avec mon {device} a été [très simple|rapide] et tout [marche|fonctionne] "
                "[parfaitement|sans problème].",
                "Je le [recommande|rachèterais] sans [aucune |]hésitation.",
            ),
            "negative": templates(
                "Le {product} est tombé en panne [au bout de {days} jours|après une semaine].",
                "[La batterie|Le son|La connexion avec mon {device}] est [catastrophique|très mauvaise|"
                "décevante] et le service client [ne répond pas|met des jours à répondre].",
                "Pour {price}, je m'attendais à [beaucoup mieux|une meilleure qualité].",
                "Je ne le recommande pas et je vais le renvoyer.",
            ),
        },
    },
}
